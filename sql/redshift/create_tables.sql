-- Warehouse DDL, Amazon Redshift dialect: the published tables, in schema public. Idempotent:
-- safe to run before every DAG run. Each run also gets its own schema (run_tables.sql).
-- Distribution design (see README "Redshift"):
--   * songplays and time are the large, growing tables: both DISTKEY(start_time), so the
--     fact -> time join is co-located, and SORTKEY(start_time), so a day's partition (the
--     fact's delete/insert and its validation) reads only that day's blocks.
--   * users, songs, artists are small dimensions: DISTSTYLE ALL, a copy on every node, so
--     joins to them never move data.
--   * staging tables (in each run's schema) are read whole: DISTSTYLE EVEN.
-- Keys are not declared: Redshift does not enforce them; Great Expectations checks them.

-- Objects of earlier versions, when every run shared one set of staging tables in public.
drop view if exists public.songplays_day;
drop view if exists public.time_day;
drop table if exists public.run_context;
drop table if exists public.staging_events;
drop table if exists public.staging_songs;

-- Lines and song files that could not be staged, per day: where they were, what they held
-- (the first 65,535 bytes), why.
create table if not exists public.quarantine (
    day date,
    source varchar(16),
    file varchar(1024),
    line_number integer,
    "raw" varchar(65535),
    reason varchar(1024)
)
diststyle even
sortkey (day);

create table if not exists public.songplays (
    songplay_id char(32),
    start_time timestamp,
    user_id varchar(64),
    level varchar(16),
    song_id varchar(32),
    artist_id varchar(32),
    session_id bigint,
    location varchar(512),
    user_agent varchar(1024)
)
distkey (start_time)
sortkey (start_time);

create table if not exists public.users (
    user_id varchar(64),
    first_name varchar(256),
    last_name varchar(256),
    gender varchar(8),
    level varchar(16),
    last_event_ts bigint
)
diststyle all
sortkey (user_id);

-- The song files of the published catalog (the manifest); see sql/postgres/create_tables.sql.
create table if not exists public.song_files (
    file_key varchar(1024),
    size bigint,
    version varchar(256),
    published_on date
)
diststyle all
sortkey (file_key);

create table if not exists public.songs (
    song_id varchar(32),
    title varchar(512),
    artist_id varchar(32),
    year integer,
    duration double precision
)
diststyle all
sortkey (song_id);

create table if not exists public.artists (
    artist_id varchar(32),
    name varchar(512),
    location varchar(512),
    latitude double precision,
    longitude double precision
)
diststyle all
sortkey (artist_id);

create table if not exists public.time (
    start_time timestamp,
    hour integer,
    day integer,
    week integer,
    month integer,
    year integer,
    weekday integer
)
distkey (start_time)
sortkey (start_time);
