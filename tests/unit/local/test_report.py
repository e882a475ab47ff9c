"""make run's console: control characters from data never reach the terminal raw."""

from __future__ import annotations

from sparkify.local.report import printable, say


def test_escape_sequences_are_shown_not_interpreted(capsys):
    say("user \x1b]0;pwned\x07 \x1b[2J\rlevel\x9b1m\tok")
    out = capsys.readouterr().out
    assert out == "user \\x1b]0;pwned\\x07 \\x1b[2J\\x0dlevel\\x9b1m\tok\n"
    assert "\x1b" not in out and "\r" not in out
    assert printable("Café 2018-11-05\n") == "Café 2018-11-05\n"
