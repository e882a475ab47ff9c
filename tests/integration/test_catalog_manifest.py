"""The song catalog's manifest: a day stages only the song files new or changed since the published
catalog, through the real DAG on the public sample (a copy of its song files, one edited)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.integration.helpers import execute, reset_warehouse, run_pipeline
from tests.session import SAMPLE_LAKE, SESSION_DIR

DAYS = ("2018-11-05", "2018-11-06", "2018-11-07", "2018-11-08")


def staged(summary: dict) -> tuple[int, int, int]:
    """The day's song files staged and skipped, and the songs staged (from the run summary)."""
    (run,) = summary["runs"]
    return run["song_files"]["staged"], summary["staged"]["songs"], run["song_files"]["unchanged"]


@pytest.fixture(scope="module")
def lake():
    folder = SESSION_DIR / "lake-catalog"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(SAMPLE_LAKE / "song_data", folder / "song_data")
    shutil.copy(SAMPLE_LAKE / "log_json_path.json", folder / "log_json_path.json")
    for day in DAYS:
        name = f"log_data/2018/11/{day}-events.json"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_LAKE / name, folder / name)
    return folder


def test_unchanged_files_are_skipped_and_a_changed_file_restages(lake, socket_warehouse):
    reset_warehouse(socket_warehouse)
    files = sorted(p.relative_to(lake).as_posix() for p in (lake / "song_data").rglob("*.json"))

    code, summary = run_pipeline(socket_warehouse, lake, DAYS[0], DAYS[0], fresh=False, tag="catalog-1")
    assert code == 0
    assert staged(summary) == (len(files), 71, 0)
    assert execute(socket_warehouse, "select count(*) from song_files")[0][0] == len(files)

    # Nothing changed: no song file is staged, the catalog stays whole.
    code, summary = run_pipeline(socket_warehouse, lake, DAYS[1], DAYS[1], fresh=False, tag="catalog-2")
    assert code == 0
    assert staged(summary) == (0, 0, len(files))
    assert execute(socket_warehouse, "select count(*) from songs")[0][0] == 71
    assert execute(socket_warehouse, "select count(*) from artists")[0][0] == 69

    # One file edited (a new title, so a new size too): only it is staged, and its song is updated.
    edited = lake / files[0]
    song = json.loads(edited.read_text())
    old_title = song["title"]
    song["title"] = old_title + " (Remastered)"
    edited.write_text(json.dumps(song))
    code, summary = run_pipeline(socket_warehouse, lake, DAYS[2], DAYS[2], fresh=False, tag="catalog-3")
    assert code == 0
    assert staged(summary) == (1, 1, len(files) - 1)
    assert execute(socket_warehouse, "select title from songs where song_id = %s", (song["song_id"],)) == [(song["title"],)]
    assert execute(socket_warehouse, "select count(*) from songs")[0][0] == 71
    stat = os.stat(edited)
    assert execute(socket_warehouse, "select size, version from song_files where file_key = %s", (files[0],)) == [
        (stat.st_size, str(stat.st_mtime_ns))
    ]

    # A file removed from the lake: nothing to stage, its song stays published (songplays refer to it).
    removed = json.loads((lake / files[1]).read_text())
    (lake / files[1]).unlink()
    code, summary = run_pipeline(socket_warehouse, lake, DAYS[3], DAYS[3], fresh=False, tag="catalog-4")
    assert code == 0
    assert staged(summary) == (0, 0, len(files) - 1)
    assert execute(socket_warehouse, "select count(*) from songs where song_id = %s", (removed["song_id"],)) == [(1,)]
    assert execute(socket_warehouse, "select count(*) from songs")[0][0] == 71
