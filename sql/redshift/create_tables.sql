-- Warehouse DDL, Amazon Redshift dialect. Idempotent: safe to run before every DAG run.
-- Distribution design (see README "Redshift"):
--   * songplays and time are the large, growing tables: both DISTKEY(start_time), so the
--     fact -> time join is co-located, and SORTKEY(start_time), so a day's partition (the
--     fact's delete/insert and its validation) reads only that day's blocks.
--   * users, songs, artists are small dimensions: DISTSTYLE ALL, a copy on every node, so
--     joins to them never move data.
--   * staging tables are replaced every run and read whole: DISTSTYLE EVEN.
-- Keys are not declared: Redshift does not enforce them; Great Expectations checks them.

create table if not exists staging_events (
    artist          varchar(512),
    auth            varchar(32),
    first_name      varchar(256),
    gender          varchar(8),
    item_in_session integer,
    last_name       varchar(256),
    length          double precision,
    level           varchar(16),
    location        varchar(512),
    method          varchar(16),
    page            varchar(64),
    registration    double precision,
    session_id      bigint,
    song            varchar(512),
    status          integer,
    ts              bigint,
    user_agent      varchar(1024),
    user_id         varchar(64)
)
diststyle even;

create table if not exists staging_songs (
    num_songs        integer,
    artist_id        varchar(32),
    artist_latitude  double precision,
    artist_longitude double precision,
    artist_location  varchar(512),
    artist_name      varchar(512),
    song_id          varchar(32),
    title            varchar(512),
    duration         double precision,
    year             integer
)
diststyle even;

create table if not exists run_context (
    day date not null
)
diststyle all;

create table if not exists songplays (
    songplay_id char(32),
    start_time  timestamp,
    user_id     varchar(64),
    level       varchar(16),
    song_id     varchar(32),
    artist_id   varchar(32),
    session_id  bigint,
    location    varchar(512),
    user_agent  varchar(1024)
)
distkey (start_time)
sortkey (start_time);

create table if not exists users (
    user_id       varchar(64),
    first_name    varchar(256),
    last_name     varchar(256),
    gender        varchar(8),
    level         varchar(16),
    last_event_ts bigint
)
diststyle all
sortkey (user_id);

create table if not exists songs (
    song_id   varchar(32),
    title     varchar(512),
    artist_id varchar(32),
    year      integer,
    duration  double precision
)
diststyle all
sortkey (song_id);

create table if not exists artists (
    artist_id varchar(32),
    name      varchar(512),
    location  varchar(512),
    latitude  double precision,
    longitude double precision
)
diststyle all
sortkey (artist_id);

create table if not exists time (
    start_time timestamp,
    hour       integer,
    day        integer,
    week       integer,
    month      integer,
    year       integer,
    weekday    integer
)
distkey (start_time)
sortkey (start_time);
