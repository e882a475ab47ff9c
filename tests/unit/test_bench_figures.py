"""docs/performance.md against make bench's declared figures, and the bench's refusal of an undeclared one."""

from __future__ import annotations

import re

import pytest

from sparkify.local.bench_figures import BY_NAME, FIGURES, check_recorded, missing
from tests.session import ROOT

ROW = re.compile(r"^\| `([^`]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|", re.MULTILINE)


def _rows() -> dict[str, tuple[str, str, str]]:
    text = (ROOT / "docs" / "performance.md").read_text()
    return {name: (value.strip(), target.strip(), met.strip()) for name, value, target, met in ROW.findall(text)}


def test_the_performance_doc_has_a_row_per_figure_with_its_declared_target():
    rows = _rows()
    assert sorted(set(BY_NAME) - set(rows)) == []  # every figure has its row
    # and no row names an undeclared one (the "`make demo`, fresh clone" row is not a bench figure)
    assert sorted(name for name in rows if name not in BY_NAME) == []
    for figure in FIGURES:
        value, target, met = rows[figure.name]
        if figure.target is None:
            assert target == "" and met == "", figure.name
            continue
        assert target.startswith("<= ") and float(target[3:]) == figure.target, (figure.name, target)
        # the met column agrees with the value the row reports
        assert met.strip("*").lower() == ("yes" if float(value.replace(",", "")) <= figure.target else "no"), (figure.name, value, met)


def test_the_bench_refuses_a_figure_it_does_not_declare():
    with pytest.raises(KeyError, match="'staging' recorded stage_ratioo, which bench_figures.FIGURES does not declare"):
        check_recorded("staging", {"stage_ratio": 1.0, "stage_ratioo": 1.0})
    with pytest.raises(KeyError, match="'dag' recorded stage_ratio, declared as another step's figure"):
        check_recorded("dag", {"stage_ratio": 1.0})
    assert missing("staging", {"stage_ratio": 1.0}) == [
        "stage_seconds", "copy_csv_seconds", "stage_peak_rss_mb", "s3_stage_ratio", "s3_stage_seconds", "s3_stage_peak_rss_mb"
    ]  # fmt: skip
