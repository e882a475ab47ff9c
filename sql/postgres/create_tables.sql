-- Warehouse DDL, PostgreSQL dialect. Idempotent: safe to run before every DAG run.
-- Keys are not enforced by constraints (as on Redshift, where they are informational only):
-- Great Expectations checks them on every load, identically on both warehouses.

-- One row per line of the day's event log; replaced by every staging run.
create table if not exists staging_events (
    artist          text,
    auth            text,
    first_name      text,
    gender          text,
    item_in_session integer,
    last_name       text,
    length          double precision,
    level           text,
    location        text,
    method          text,
    page            text,
    registration    double precision,
    session_id      bigint,
    song            text,
    status          integer,
    ts              bigint,
    user_agent      text,
    user_id         text
);

-- One row per song file of the lake; replaced by every staging run.
create table if not exists staging_songs (
    num_songs        integer,
    artist_id        text,
    artist_latitude  double precision,
    artist_longitude double precision,
    artist_location  text,
    artist_name      text,
    song_id          text,
    title            text,
    duration         double precision,
    year             integer
);

-- The day being processed: the validation views below read their day from here.
create table if not exists run_context (
    day date not null
);

-- Fact: one row per NextSong event.
create table if not exists songplays (
    songplay_id char(32),
    start_time  timestamp,
    user_id     text,
    level       text,
    song_id     text,
    artist_id   text,
    session_id  bigint,
    location    text,
    user_agent  text
);
create index if not exists songplays_start_time_idx on songplays (start_time);

-- One row per user_id, with the level of the user's latest event (last_event_ts).
create table if not exists users (
    user_id       text,
    first_name    text,
    last_name     text,
    gender        text,
    level         text,
    last_event_ts bigint
);
create index if not exists users_user_id_idx on users (user_id);

-- One row per song_id.
create table if not exists songs (
    song_id   text,
    title     text,
    artist_id text,
    year      integer,
    duration  double precision
);
create index if not exists songs_song_id_idx on songs (song_id);
create index if not exists songs_title_idx on songs (title);

-- One row per artist_id.
create table if not exists artists (
    artist_id text,
    name      text,
    location  text,
    latitude  double precision,
    longitude double precision
);
create index if not exists artists_artist_id_idx on artists (artist_id);

-- One row per start_time of a songplay.
create table if not exists time (
    start_time timestamp,
    hour       integer,
    day        integer,
    week       integer,
    month      integer,
    year       integer,
    weekday    integer
);
create index if not exists time_start_time_idx on time (start_time);
