"""Lines that cannot be staged, spooled as CSV for one COPY into the run's quarantine table."""

from __future__ import annotations

import logging

from sparkify.staging.records import csv_field
from sparkify.warehouse.connection import copy_in

log = logging.getLogger(__name__)

MAX_RAW_CHARS = 65535  # the quarantine keeps at most this much of a rejected line (Redshift's varchar limit)


class QuarantineFile:
    """Rejected lines spooled as CSV for one COPY into the quarantine table (memory stays bounded)."""

    def __init__(self, day: str, source: str):
        import tempfile

        self.day, self.source = day, source
        self.file = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b")
        self.count = 0

    def __call__(self, name: str, number: int, raw: str, reason: str) -> None:
        log.warning("Quarantined %s, line %s: %s", name, number, reason)
        fields = (self.day, self.source, name, number, raw.replace("\x00", "\\x00")[:MAX_RAW_CHARS], reason[:1024])
        self.file.write((",".join(csv_field(v) for v in fields) + "\n").encode("utf-8"))
        self.count += 1

    def copy_into(self, cur) -> None:
        self.file.seek(0)
        copy_in(cur, "copy quarantine (day, source, file, line_number, raw, reason) from stdin with (format csv)", self.file)

    def close(self) -> None:
        self.file.close()
