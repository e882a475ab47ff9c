"""make run's split of the days between jobs (sparkify.local.parallel.shares)."""

from __future__ import annotations

from datetime import date, timedelta

from sparkify.local.parallel import shares


def _days(n: int, *, backwards: bool = False) -> list[date]:
    days = [date(2018, 11, 1) + timedelta(days=k) for k in range(n)]
    return days[::-1] if backwards else days


def test_every_day_once_first_day_on_job_one_each_job_in_the_given_order():
    for n in (1, 2, 5, 30):
        for jobs in (1, 2, 3, 8):
            for backwards in (False, True):
                given = _days(n, backwards=backwards)
                split = shares(given, jobs)
                assert sorted(d for share in split for d in share) == sorted(given)
                assert split[0][0] == given[0]
                assert all(share == sorted(share, key=given.index) for share in split)
                assert len(split) == min(jobs, n) and all(split)


def test_the_days_alternate_between_two_jobs():
    assert [[d.day for d in share] for share in shares(_days(5), 2)] == [[1, 3, 5], [2, 4]]
