"""A small eventsim-like simulator: writes a Sparkify lake in the exact layout of the real sample.

    python -m sparkify.local.cli generate --out .lakes/demo --songs 200 --users 50 --days 30 --events 300

Deterministic for a seed. It reproduces the sample's quirks: logged-out events (userId ""),
non-NextSong pages, users who upgrade or downgrade mid-period, quoted user agents, non-ASCII
and double-encoded UTF-8 names, null coordinates, empty locations, year 0, and plays that match a
catalog song (title, artist and duration) as well as plays that match nothing.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

EVENT_FIELDS = (
    "artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level",
    "location", "method", "page", "registration", "sessionId", "song", "status", "ts",
    "userAgent", "userId",
)  # fmt: skip
OTHER_PAGES = (
    ("Home", "GET"), ("Thumbs Up", "PUT"), ("Add to Playlist", "PUT"), ("Thumbs Down", "PUT"),
    ("Add Friend", "PUT"), ("Roll Advert", "GET"), ("Settings", "GET"), ("Help", "GET"),
    ("About", "GET"), ("Downgrade", "GET"), ("Upgrade", "GET"), ("Error", "GET"),
)  # fmt: skip
SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "so", "ti", "va", "ber", "don", "el", "an", "is", "or", "um", "ys")
ACCENTED = ("é", "ü", "ñ", "ø", "å", "ç", "ö", "í")
FIRST_NAMES = ("Lily", "Jacob", "Kaylee", "Walter", "Chloe", "Tegan", "Ava", "Matthew", "Sara", "Aleena", "Zoë", "José")
LAST_NAMES = ("Koch", "Klein", "Summers", "Frye", "Cuevas", "Levine", "Robinson", "Jones", "Kirby", "Müller", "Núñez")
CITIES = (
    "San Francisco-Oakland-Hayward, CA", "Phoenix-Mesa-Scottsdale, AZ", "Chicago-Naperville-Elgin, IL-IN-WI",
    "New York-Newark-Jersey City, NY-NJ-PA", "Atlanta-Sandy Springs-Roswell, GA", "Lansing-East Lansing, MI",
)  # fmt: skip
AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
    "Version/7.0 Mobile/11D257 Safari/9537.53",
)
JSONPATHS = {"jsonpaths": [f"$['{f}']" for f in EVENT_FIELDS]}


@dataclass
class Song:
    track_id: str
    song_id: str
    title: str
    artist_id: str
    artist_name: str
    duration: float


@dataclass
class User:
    user_id: str
    first_name: str
    last_name: str
    gender: str
    location: str
    agent: str
    registration: float
    level: str
    switch_ms: int | None  # the moment the user changes level, if ever


def _code(rng: random.Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _name(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))).capitalize()
        if rng.random() < 0.08:
            word += rng.choice(ACCENTED)
        parts.append(word)
    text = " ".join(parts)
    if any(a in text for a in ACCENTED) and rng.random() < 0.5:
        # Double-encoded UTF-8, as some names of the real sample are (CafÃ\x83Â©).
        text = text.encode("utf-8").decode("latin-1")
    return text


def write_songs(out: Path, rng: random.Random, n_songs: int) -> list[Song]:
    """Song files, one JSON object each, under song_data/<A>/<B>/<C>/TR*.json."""
    n_artists = max(1, int(n_songs / 1.3))
    artists: list[dict[str, Any]] = []
    for _ in range(n_artists):
        located = rng.random() < 0.6
        artists.append(
            {
                "artist_id": _code(rng, "AR"),
                "artist_name": _name(rng, rng.randint(1, 2)),
                "artist_location": rng.choice(CITIES) if located else "",
                "artist_latitude": round(rng.uniform(-40, 60), 5) if located and rng.random() < 0.7 else None,
                "artist_longitude": round(rng.uniform(-120, 30), 5) if located and rng.random() < 0.7 else None,
            }
        )
    songs = []
    for _ in range(n_songs):
        artist = rng.choice(artists)
        track = "TR" + "".join(rng.choice("AB") for _ in range(3)) + _code(rng, "", 13)
        song = Song(track, _code(rng, "SO"), _name(rng, rng.randint(1, 4)), artist["artist_id"],
                    artist["artist_name"], round(rng.uniform(90, 480), 5))  # fmt: skip
        record = {"num_songs": 1, **artist, "song_id": song.song_id, "title": song.title,
                  "duration": song.duration, "year": 0 if rng.random() < 0.4 else rng.randint(1960, 2010)}  # fmt: skip
        folder = out / "song_data" / track[2] / track[3] / track[4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{track}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        songs.append(song)
    return songs


def make_users(rng: random.Random, n_users: int, start_ms: int, end_ms: int) -> list[User]:
    users = []
    for n in range(1, n_users + 1):
        level = "paid" if rng.random() < 0.3 else "free"
        switch = rng.randint(start_ms, end_ms) if rng.random() < 0.15 else None
        users.append(
            User(
                str(n),
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                rng.choice("MF"),
                rng.choice(CITIES),
                f'"{rng.choice(AGENTS)}"',
                float(start_ms - rng.randint(1, 60) * 86_400_000),
                level,
                switch,
            )  # fmt: skip
        )
    return users


def _level(user: User, ts: int) -> str:
    if user.switch_ms is not None and ts >= user.switch_ms:
        return "free" if user.level == "paid" else "paid"
    return user.level


def day_events(rng: random.Random, day: date, n_events: int, users: list[User], songs: list[Song], session_base: int):
    """n_events event records of one UTC day, sorted by ts (held in memory: small days only)."""
    sessions = [session_base]
    events = sorted(_day_records(rng, day, n_events, users, songs, sessions), key=_order)
    return events, sessions[0]


def _order(record: dict) -> tuple[int, int, int]:
    return record["ts"], record["sessionId"], record["itemInSession"]


def write_day(path: Path, rng: random.Random, day: date, n_events: int, users: list[User], songs: list[Song], session_base: int) -> int:
    """Write one day's events to ``path`` in ts order with bounded memory; returns the last session number.

    The records are generated in session order (the same draws as day_events, so the same file),
    spread over 24 hourly bucket files by ts, and each bucket is sorted alone: at most about an
    hour of a day is in memory at once (a 1M-event day held whole took over 1 GB).
    """
    import tempfile

    sessions = [session_base]
    with tempfile.TemporaryDirectory(prefix="sparkify-generate-", dir=path.parent) as folder:
        buckets = [open(Path(folder) / f"{hour:02d}.tsv", "w+", encoding="utf-8") for hour in range(24)]
        day_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
        try:
            for record in _day_records(rng, day, n_events, users, songs, sessions):
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                ts, session, item = _order(record)
                buckets[min(23, (ts - day_ms) // 3_600_000)].write(f"{ts}\t{session}\t{item}\t{line}\n")
            with path.open("w", encoding="utf-8") as handle:
                for bucket in buckets:
                    bucket.seek(0)
                    rows = [row.rstrip("\n").split("\t", 3) for row in bucket]
                    rows.sort(key=lambda r: (int(r[0]), int(r[1]), int(r[2])))
                    handle.writelines(r[3] + "\n" for r in rows)
                    del rows
        finally:
            for bucket in buckets:
                bucket.close()
    return sessions[0]


def _day_records(rng: random.Random, day: date, n_events: int, users: list[User], songs: list[Song], sessions: list[int]):
    """Yield n_events records of one day in session order; ``sessions[0]`` ends as the last session number."""
    day_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    end_ms = day_ms + 86_400_000
    count = 0
    session = sessions[0]
    while count < n_events:
        session += 1
        ts = day_ms + rng.randrange(0, 86_400_000 - 60_000)
        logged_out = rng.random() < 0.05
        user = None if logged_out else rng.choice(users)
        for item in range(rng.randint(1, 40)):
            if count >= n_events or ts >= end_ms:
                break
            if user is None:
                page, method = rng.choice((("Home", "GET"), ("Login", "PUT"), ("About", "GET"), ("Help", "GET")))
                record = dict.fromkeys(EVENT_FIELDS)
                record.update(auth="Logged Out", itemInSession=item, level="free", method=method, page=page,
                              sessionId=session, status=200, ts=ts, userId="")  # fmt: skip
                count += 1
                sessions[0] = session
                yield record
                ts += rng.randint(1_000, 30_000)
                continue
            plays = rng.random() < 0.82
            page, method = ("NextSong", "PUT") if plays else rng.choice(OTHER_PAGES)
            record = {
                "artist": None, "auth": "Logged In", "firstName": user.first_name, "gender": user.gender,
                "itemInSession": item, "lastName": user.last_name, "length": None, "level": _level(user, ts),
                "location": user.location, "method": method, "page": page, "registration": user.registration,
                "sessionId": session, "song": None, "status": 307 if page == "Thumbs Up" else 200, "ts": ts,
                "userAgent": user.agent, "userId": user.user_id,
            }  # fmt: skip
            if plays:
                if songs and rng.random() < 0.3:
                    song = rng.choice(songs)
                    record.update(artist=song.artist_name, song=song.title, length=song.duration)
                else:
                    record.update(artist=_name(rng, 2), song=_name(rng, 3), length=round(rng.uniform(90, 480), 5))
                ts += int((record["length"] or 200) * 1000)
            else:
                ts += rng.randint(1_000, 60_000)
            count += 1
            sessions[0] = session
            yield record
    sessions[0] = session


def generate(
    out: Path | str, *, seed: int = 42, songs: int = 200, users: int = 50, days: int = 30,
    events: int = 300, start: str = "2018-11-01",
) -> dict:  # fmt: skip
    """Write a lake under ``out``; returns what was written (files and counts)."""
    out = Path(out)
    rng = random.Random(seed)
    first = date.fromisoformat(start)
    start_ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    song_list = write_songs(out, rng, songs)
    user_list = make_users(rng, users, start_ms, start_ms + days * 86_400_000)
    (out / "log_json_path.json").write_text(json.dumps(JSONPATHS, indent=4))
    session = 0
    written: dict[str, Any] = {"songs": songs, "days": [], "events": 0}
    for n in range(days):
        day = first + timedelta(days=n)
        folder = out / "log_data" / f"{day:%Y}" / f"{day:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        session = write_day(folder / f"{day.isoformat()}-events.json", rng, day, events, user_list, song_list, session)
        written["days"].append(day.isoformat())
        written["events"] += events
    return written


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="folder to write the lake into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--songs", type=int, default=200, help="number of song files")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=300, help="events per day")
    parser.add_argument("--start", default="2018-11-01", help="first day, YYYY-MM-DD")


def generate_from_args(args) -> None:
    result = generate(args.out, seed=args.seed, songs=args.songs, users=args.users, days=args.days,
                      events=args.events, start=args.start)  # fmt: skip
    print(f"Wrote {result['songs']} songs and {result['events']} events over {len(result['days'])} day(s) to {args.out}")
