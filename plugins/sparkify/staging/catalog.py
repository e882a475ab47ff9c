"""The song catalog's manifest: stage only the song files added or changed since it was published.

``public.song_files`` lists each published song file with its size and version (a local file's
mtime in ns, an S3 object's ETag). A run stages the files whose key is new or whose size or
version differs, records them in its own ``staged_song_files``, and publish_day moves that list
into the manifest in the same transaction as the songs: a run that fails publishes neither, so
the next run stages those files again.

A file removed from the lake keeps its manifest row and its songs: songplays already published
refer to them, and a catalog row is not wrong because its source file was archived. Emptying the
manifest (``delete from public.song_files``) makes the next run stage every file again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CatalogDelta:
    changed: list[tuple[str, int, str]]  # (key, size, version) to stage
    unchanged: int
    removed: int  # in the published manifest, no longer in the lake

    @property
    def keys(self) -> list[str]:
        return [key for key, _, _ in self.changed]


def published_manifest(cur) -> dict[str, tuple[int, str]]:
    """The published manifest: key -> (size, version)."""
    cur.execute("select file_key, size, version from public.song_files")
    return {key: (size, version) for key, size, version in cur.fetchall()}


def delta(listed: list[tuple[str, int, str]], published: dict[str, tuple[int, str]]) -> CatalogDelta:
    """The listed files that are new or differ in size or version from the published manifest."""
    changed = [item for item in listed if published.get(item[0]) != (item[1], item[2])]
    present = {key for key, _, _ in listed}
    return CatalogDelta(changed=changed, unchanged=len(listed) - len(changed), removed=sum(1 for key in published if key not in present))


def record_staged(cur, changed: list[tuple[str, int, str]], *, dialect: str = "postgres") -> None:
    """The run's list of staged files (its schema's staged_song_files), replaced."""
    cur.execute("delete from staged_song_files")
    if not changed:
        return
    if dialect == "postgres":
        import csv
        import io

        from sparkify.warehouse.connection import copy_in

        text = io.StringIO()
        csv.writer(text).writerows(changed)
        copy_in(cur, "copy staged_song_files (file_key, size, version) from stdin with (format csv)", io.BytesIO(text.getvalue().encode()))
        return
    # Redshift has no COPY FROM STDIN: multi-row inserts of 500 files each.
    for start in range(0, len(changed), 500):
        batch = changed[start : start + 500]
        values = ", ".join(["(%s, %s, %s)"] * len(batch))
        cur.execute(f"insert into staged_song_files (file_key, size, version) values {values}", [v for row in batch for v in row])
