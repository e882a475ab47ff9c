from __future__ import annotations

import json

from sparkify.local.generator import EVENT_FIELDS, generate


def test_same_seed_same_lake(tmp_path):
    a = generate(tmp_path / "a", seed=3, songs=20, users=10, days=2, events=100)
    b = generate(tmp_path / "b", seed=3, songs=20, users=10, days=2, events=100)
    assert a == b
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.json"))
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_layout_and_record_format(tmp_path):
    generate(tmp_path, seed=1, songs=30, users=20, days=3, events=400, start="2019-02-27")
    songs = sorted((tmp_path / "song_data").rglob("TR*.json"))
    assert len(songs) == 30
    for path in songs:
        assert path.parts[-4:-1] == tuple(path.name[2:5])  # song_data/<A>/<B>/<C>/TR<A><B><C>...
        record = json.loads(path.read_text())
        assert set(record) == {"num_songs", "artist_id", "artist_latitude", "artist_longitude",
                               "artist_location", "artist_name", "song_id", "title", "duration", "year"}  # fmt: skip
    days = sorted((tmp_path / "log_data").rglob("*-events.json"))
    assert [p.name for p in days] == ["2019-02-27-events.json", "2019-02-28-events.json", "2019-03-01-events.json"]
    assert days[2].parent.name == "03"
    jsonpaths = json.loads((tmp_path / "log_json_path.json").read_text())["jsonpaths"]
    assert len(jsonpaths) == len(EVENT_FIELDS)
    lines = days[0].read_text().splitlines()
    assert len(lines) == 400
    assert all(list(json.loads(line)) == list(EVENT_FIELDS) for line in lines)


def test_quirks_of_the_real_sample_are_present(tmp_path):
    generate(tmp_path, seed=5, songs=80, users=40, days=10, events=500)
    events = [json.loads(line) for p in (tmp_path / "log_data").rglob("*.json") for line in p.read_text().splitlines()]
    songs = [json.loads(p.read_text()) for p in (tmp_path / "song_data").rglob("*.json")]
    plays = [e for e in events if e["page"] == "NextSong"]
    catalog = {(s["title"], s["artist_name"], s["duration"]) for s in songs}
    assert any(e["userId"] == "" and e["firstName"] is None for e in events)
    assert len(plays) < len(events)
    assert any((p["song"], p["artist"], p["length"]) in catalog for p in plays)
    assert any((p["song"], p["artist"], p["length"]) not in catalog for p in plays)
    assert all(e["userAgent"].startswith('"') for e in events if e["userAgent"])
    levels = {}
    for e in sorted(events, key=lambda e: e["ts"]):
        if e["userId"]:
            levels.setdefault(e["userId"], set()).add(e["level"])
    assert any(len(v) == 2 for v in levels.values())
    assert any(s["year"] == 0 for s in songs) and any(s["artist_latitude"] is None for s in songs)
    assert any(s["artist_location"] == "" for s in songs)
    assert any(not s["artist_name"].isascii() or not s["title"].isascii() for s in songs)
    assert all(isinstance(e["ts"], int) and isinstance(e["userId"], str) for e in events)
