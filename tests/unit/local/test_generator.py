from __future__ import annotations

import json

import pytest

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


def test_a_history_shape_draws_weekends_noise_and_anomalies_and_leaves_the_base_lake_alone(tmp_path):
    from sparkify.local.generator import Anomaly, generate

    plain = generate(tmp_path / "plain", seed=3, songs=5, users=5, days=3, events=40)
    again = generate(tmp_path / "again", seed=3, songs=5, users=5, days=3, events=40, weekly=0.0, noise=0.0, anomalies=[])
    first = "log_data/2018/11/2018-11-01-events.json"
    assert (tmp_path / "plain" / first).read_bytes() == (tmp_path / "again" / first).read_bytes() and plain == again
    anomalies = [Anomaly.parse(t) for t in ("2018-11-05:drop", "2018-11-06:spike:1.0", "2018-11-08:shift:0.5", "2018-11-07:free",
                                             "2018-11-09:field:0.5", "2018-11-10:bad:0.2")]  # fmt: skip
    shaped = generate(tmp_path / "shaped", seed=3, songs=5, users=5, days=10, events=200, weekly=0.5, anomalies=anomalies)
    per_day = shaped["events_per_day"]
    # 2018-11-03 and -04 are a weekend: half; the drop 40% fewer; the spike twice; the shift lasts.
    assert [per_day[f"2018-11-{d:02d}"] for d in (2, 3, 4, 5, 6, 8, 9)] == [200, 100, 100, 120, 400, 300, 300]
    lines = lambda day: (tmp_path / "shaped" / f"log_data/2018/11/2018-11-{day:02d}-events.json").read_text().splitlines()  # noqa: E731
    assert all(json.loads(line)["level"] == "free" for line in lines(7))
    with_field = sum("platform" in json.loads(line) for line in lines(9))
    assert 0.3 * 300 < with_field < 0.7 * 300
    broken = 0
    for line in lines(10):
        try:
            json.loads(line)
        except ValueError:
            broken += 1
    assert per_day["2018-11-10"] == len(lines(10)) == 150  # a Saturday, after the shift
    assert 0.1 * 150 < broken < 0.3 * 150
    with pytest.raises(ValueError, match=r"--anomaly '2018-11-05:melt': expected DAY:KIND\[:SIZE\] with KIND one of drop, spike"):
        Anomaly.parse("2018-11-05:melt")
    with pytest.raises(ValueError, match=r"outside the generated 2018-11-01..2018-11-02"):
        generate(tmp_path / "x", days=2, events=5, songs=2, users=2, anomalies=[Anomaly.parse("2018-12-01:drop")])
