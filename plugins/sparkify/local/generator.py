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
    "artist",
    "auth",
    "firstName",
    "gender",
    "itemInSession",
    "lastName",
    "length",
    "level",
    "location",
    "method",
    "page",
    "registration",
    "sessionId",
    "song",
    "status",
    "ts",
    "userAgent",
    "userId",
)
OTHER_PAGES = (
    ("Home", "GET"),
    ("Thumbs Up", "PUT"),
    ("Add to Playlist", "PUT"),
    ("Thumbs Down", "PUT"),
    ("Add Friend", "PUT"),
    ("Roll Advert", "GET"),
    ("Settings", "GET"),
    ("Help", "GET"),
    ("About", "GET"),
    ("Downgrade", "GET"),
    ("Upgrade", "GET"),
    ("Error", "GET"),
)
SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "so", "ti", "va", "ber", "don", "el", "an", "is", "or", "um", "ys")
ACCENTED = ("é", "ü", "ñ", "ø", "å", "ç", "ö", "í")
FIRST_NAMES = ("Lily", "Jacob", "Kaylee", "Walter", "Chloe", "Tegan", "Ava", "Matthew", "Sara", "Aleena", "Zoë", "José")
LAST_NAMES = ("Koch", "Klein", "Summers", "Frye", "Cuevas", "Levine", "Robinson", "Jones", "Kirby", "Müller", "Núñez")
CITIES = (
    "San Francisco-Oakland-Hayward, CA",
    "Phoenix-Mesa-Scottsdale, AZ",
    "Chicago-Naperville-Elgin, IL-IN-WI",
    "New York-Newark-Jersey City, NY-NJ-PA",
    "Atlanta-Sandy Springs-Roswell, GA",
    "Lansing-East Lansing, MI",
)
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
        song = Song(
            track,
            _code(rng, "SO"),
            _name(rng, rng.randint(1, 4)),
            artist["artist_id"],
            artist["artist_name"],
            round(rng.uniform(90, 480), 5),
        )
        record = {
            "num_songs": 1,
            **artist,
            "song_id": song.song_id,
            "title": song.title,
            "duration": song.duration,
            "year": 0 if rng.random() < 0.4 else rng.randint(1960, 2010),
        }
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
            )
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
                record, ts = _logged_out_record(rng, item, session, ts)
            else:
                record, ts = _user_record(rng, user, songs, item, session, ts)
            count += 1
            sessions[0] = session
            yield record
    sessions[0] = session


def _logged_out_record(rng: random.Random, item: int, session: int, ts: int) -> tuple[dict, int]:
    """A logged-out line (userId "", no names), and the time of the session's next line."""
    page, method = rng.choice((("Home", "GET"), ("Login", "PUT"), ("About", "GET"), ("Help", "GET")))
    record = dict.fromkeys(EVENT_FIELDS)
    record.update(auth="Logged Out", itemInSession=item, level="free", method=method, page=page, sessionId=session, status=200,
                  ts=ts, userId="")  # fmt: skip
    return record, ts + rng.randint(1_000, 30_000)


def _user_record(rng: random.Random, user: User, songs: list[Song], item: int, session: int, ts: int) -> tuple[dict, int]:
    """A logged-in line: a play (NextSong, of a catalog song three times in ten) or another page,
    and the time of the session's next line."""
    plays = rng.random() < 0.82
    page, method = ("NextSong", "PUT") if plays else rng.choice(OTHER_PAGES)
    record = {
        "artist": None, "auth": "Logged In", "firstName": user.first_name, "gender": user.gender, "itemInSession": item,
        "lastName": user.last_name, "length": None, "level": _level(user, ts), "location": user.location, "method": method,
        "page": page, "registration": user.registration, "sessionId": session, "song": None,
        "status": 307 if page == "Thumbs Up" else 200, "ts": ts, "userAgent": user.agent, "userId": user.user_id,
    }  # fmt: skip
    if not plays:
        return record, ts + rng.randint(1_000, 60_000)
    if songs and rng.random() < 0.3:
        song = rng.choice(songs)
        record.update(artist=song.artist_name, song=song.title, length=song.duration)
    else:
        record.update(artist=_name(rng, 2), song=_name(rng, 3), length=round(rng.uniform(90, 480), 5))
    return record, ts + int((record["length"] or 200) * 1000)


ANOMALIES = {
    # kind: (default size, what it does to the day)
    "drop": (0.4, "the day's volume falls by SIZE (0.4: 40% fewer events, as when one of two app servers stops logging)"),
    "spike": (1.0, "the day's volume grows by SIZE (1.0: twice the events)"),
    "shift": (0.5, "the volume grows by SIZE from this day on (a level shift)"),
    "free": (1.0, "every event of the day is at level free"),
    "field": (0.04, "a new top-level field 'platform' in a SIZE share of the day's lines"),
    "lose": (1.0, "the field sessionId (in the JSONPaths contract) left out of a SIZE share of the day's lines"),
    "bad": (0.05, "a SIZE share of the day's lines is not JSON (quarantined; over the threshold, the day fails)"),
    # Faults that break one of RULES, which no committed suite checks (make backtest must catch them):
    "method": (0.02, "a SIZE share of the day's logged-in lines has method 'POST' (the rule: GET or PUT)"),
    "length": (0.02, "a SIZE share of the day's plays has length 9999.0 (the rule: between 90 and 480)"),
    "gender": (0.02, "a SIZE share of the day's logged-in lines has gender 'U' (the rule: F or M)"),
}

LINE_KINDS = ("free", "field", "lose", "bad", "method", "length", "gender")  # applied to the day's written lines (_alter_lines)
_FAULTS = {"method": ("method", "POST"), "length": ("length", 9999.0), "gender": ("gender", "U")}


@dataclass(frozen=True)
class Rule:
    """What every clean day of a generated lake obeys, in a warehouse table (what make suggest
    should find): not_null, unique, in_set (``values``) or between (``low``, ``high``)."""

    table: str
    kind: str
    column: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None


PAGES = ("NextSong", "Login", *(page for page, _ in OTHER_PAGES))


def _rules() -> tuple[Rule, ...]:
    not_null = {
        "staging_events": ("auth", "item_in_session", "level", "method", "page", "session_id", "status", "ts", "user_id"),
        "users": ("user_id", "first_name", "last_name", "gender", "level", "last_event_ts"),
        "songplays": ("songplay_id", "start_time", "user_id", "level", "session_id", "location", "user_agent"),
        "time": ("start_time", "hour", "day", "week", "month", "year", "weekday"),
        "songs": ("song_id", "title", "artist_id", "duration"),
        "artists": ("artist_id", "name"),
    }
    unique = {"users": "user_id", "songplays": "songplay_id", "time": "start_time", "songs": "song_id", "artists": "artist_id"}
    in_set = {
        ("staging_events", "auth"): ("Logged In", "Logged Out"),
        ("staging_events", "level"): ("free", "paid"),
        ("staging_events", "method"): ("GET", "PUT"),
        ("staging_events", "status"): (200, 307),
        ("staging_events", "gender"): ("F", "M"),
        ("staging_events", "page"): PAGES,
        ("users", "gender"): ("F", "M"),
        ("users", "level"): ("free", "paid"),
        ("songplays", "level"): ("free", "paid"),
        ("time", "weekday"): tuple(range(7)),
    }
    between = {
        ("staging_events", "length"): (90, 480),
        ("staging_events", "item_in_session"): (0, 39),
        ("time", "hour"): (0, 23),
        ("songs", "duration"): (90, 480),
        ("artists", "latitude"): (-40, 60),
        ("artists", "longitude"): (-120, 30),
    }
    return (
        *(Rule(table, "not_null", column) for table, columns in not_null.items() for column in columns),
        *(Rule(table, "unique", column) for table, column in unique.items()),
        *(Rule(table, "in_set", column, values=values) for (table, column), values in in_set.items()),
        *(Rule(table, "between", column, low=low, high=high) for (table, column), (low, high) in between.items()),
    )


RULES = _rules()


@dataclass(frozen=True)
class Anomaly:
    day: date
    kind: str
    size: float

    @classmethod
    def parse(cls, text: str) -> Anomaly:
        """DAY:KIND[:SIZE], e.g. 2018-11-20:drop:0.4."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[1] not in ANOMALIES:
            raise ValueError(f"--anomaly {text!r}: expected DAY:KIND[:SIZE] with KIND one of {', '.join(ANOMALIES)}.")
        try:
            day = date.fromisoformat(parts[0])
            size = float(parts[2]) if len(parts) == 3 else ANOMALIES[parts[1]][0]
        except ValueError:
            raise ValueError(f"--anomaly {text!r}: DAY is YYYY-MM-DD and SIZE a number.") from None
        return cls(day, parts[1], size)


def day_volume(day: date, events: int, *, weekly: float, noise: float, anomalies: list[Anomaly], rng: random.Random) -> int:
    """The day's event count: ``events``, less ``weekly`` on Saturdays and Sundays, times a noise
    factor in [1 - noise, 1 + noise], times the day's drop or spike and any earlier level shift."""
    factor = 1.0 - weekly if day.weekday() >= 5 else 1.0
    if noise:
        factor *= 1.0 + rng.uniform(-noise, noise)
    for anomaly in anomalies:
        if anomaly.kind == "drop" and anomaly.day == day:
            factor *= 1.0 - anomaly.size
        elif anomaly.kind == "spike" and anomaly.day == day:
            factor *= 1.0 + anomaly.size
        elif anomaly.kind == "shift" and anomaly.day <= day:
            factor *= 1.0 + anomaly.size
    return max(1, round(events * factor))


def _alter_lines(path: Path, anomalies: list[Anomaly], rng: random.Random) -> None:
    """The day's line anomalies (LINE_KINDS), applied to its written file line by line."""
    if not anomalies:
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        record = json.loads(line)
        broken = False
        for anomaly in anomalies:
            if anomaly.kind == "free" and record.get("level") is not None:
                record["level"] = "free"
            elif anomaly.kind == "field" and rng.random() < anomaly.size:
                record["platform"] = rng.choice(("ios", "android", "web"))
            elif anomaly.kind == "lose" and rng.random() < anomaly.size:
                record.pop("sessionId", None)
            elif anomaly.kind == "bad" and rng.random() < anomaly.size:
                broken = True
            elif anomaly.kind in _FAULTS and record.get("userId") and rng.random() < anomaly.size:
                column, value = _FAULTS[anomaly.kind]
                if column != "length" or record.get("page") == "NextSong":
                    record[column] = value
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        out.append(text[: len(text) // 2] if broken else text)
    path.write_text("".join(line + "\n" for line in out), encoding="utf-8")


def generate(
    out: Path | str,
    *,
    seed: int = 42,
    songs: int = 200,
    users: int = 50,
    days: int = 30,
    events: int = 300,
    start: str = "2018-11-01",
    weekly: float = 0.0,
    noise: float = 0.0,
    anomalies: list[Anomaly] | None = None,
    user_days: int | None = None,
) -> dict:
    """Write a lake under ``out``; returns what was written (files and counts).

    ``user_days`` (default ``days``): the days in which users may change level. A longer lake
    with the same seed, settings and ``user_days`` has the shorter one's first days exactly.

    ``events`` per day, unless a history shape is asked for: ``weekly`` (the share fewer events
    on weekends), ``noise`` (each day's volume varies by up to that share) and ``anomalies`` on
    chosen days (see ANOMALIES). These draw from their own random stream, so a lake without them
    is the same as before they existed."""
    out = Path(out)
    rng = random.Random(seed)
    shape = random.Random(seed + 1_000_003)
    anomalies = list(anomalies or [])
    first = date.fromisoformat(start)
    last = first + timedelta(days=days - 1)
    for anomaly in anomalies:
        if not first <= anomaly.day <= last:
            raise ValueError(f"--anomaly {anomaly.day}:{anomaly.kind}: the day is outside the generated {first}..{last}.")
    start_ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    song_list = write_songs(out, rng, songs)
    user_list = make_users(rng, users, start_ms, start_ms + (user_days or days) * 86_400_000)
    (out / "log_json_path.json").write_text(json.dumps(JSONPATHS, indent=4))
    session = 0
    written: dict[str, Any] = {"songs": songs, "days": [], "events": 0, "events_per_day": {}}
    for n in range(days):
        day = first + timedelta(days=n)
        folder = out / "log_data" / f"{day:%Y}" / f"{day:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        count = day_volume(day, events, weekly=weekly, noise=noise, anomalies=anomalies, rng=shape)
        path = folder / f"{day.isoformat()}-events.json"
        session = write_day(path, rng, day, count, user_list, song_list, session)
        _alter_lines(path, [a for a in anomalies if a.day == day and a.kind in LINE_KINDS], shape)
        written["days"].append(day.isoformat())
        written["events"] += count
        written["events_per_day"][day.isoformat()] = count
    return written


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="folder to write the lake into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--songs", type=int, default=200, help="number of song files")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=300, help="events per day")
    parser.add_argument("--start", default="2018-11-01", help="first day, YYYY-MM-DD")
    parser.add_argument("--weekly", type=float, default=0.0, help="share fewer events on Saturdays and Sundays (0.3: 30%% fewer)")
    parser.add_argument("--noise", type=float, default=0.0, help="each day's volume varies by up to this share (0.05)")
    kinds = "; ".join(f"{kind}: {text}" for kind, (_, text) in ANOMALIES.items()).replace("%", "%%")
    parser.add_argument("--anomaly", action="append", default=[], metavar="DAY:KIND[:SIZE]", help=f"an anomaly on a day ({kinds})")


def generate_from_args(args) -> None:
    result = generate(
        args.out,
        seed=args.seed,
        songs=args.songs,
        users=args.users,
        days=args.days,
        events=args.events,
        start=args.start,
        weekly=args.weekly,
        noise=args.noise,
        anomalies=[Anomaly.parse(text) for text in args.anomaly],
    )
    print(f"Wrote {result['songs']} songs and {result['events']} events over {len(result['days'])} day(s) to {args.out}")
