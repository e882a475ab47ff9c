-- Warehouse DDL, PostgreSQL dialect: the published tables, in schema public. Idempotent: safe
-- to run before every DAG run. Each run also gets its own schema (sql/postgres/run_tables.sql).
-- Keys are not enforced by constraints (as on Redshift, where they are informational only):
-- Great Expectations checks them on every load, identically on both warehouses.

-- Runs that start together must not create the same table twice at once.
select pg_advisory_xact_lock(hashtext('sparkify.prepare_warehouse'));

-- Objects of earlier versions, when every run shared one set of staging tables in public.
drop view if exists public.songplays_day;
drop view if exists public.time_day;
drop table if exists public.run_context;
drop table if exists public.staging_events;
drop table if exists public.staging_songs;

-- Lines and song files that could not be staged, per day: where they were, what they held, why.
create table if not exists public.quarantine (
    day date,
    source text,
    file text,
    line_number integer,
    raw text,
    reason text
);

-- Fact: one row per NextSong event.
create table if not exists public.songplays (
    songplay_id char(32),
    start_time timestamp,
    user_id text,
    level text,
    song_id text,
    artist_id text,
    session_id bigint,
    location text,
    user_agent text
);
create index if not exists songplays_start_time_idx on public.songplays (start_time);

-- One row per user_id, with the level of the user's latest event (last_event_ts).
create table if not exists public.users (
    user_id text,
    first_name text,
    last_name text,
    gender text,
    level text,
    last_event_ts bigint
);
create index if not exists users_user_id_idx on public.users (user_id);

-- The song files of the published catalog (the manifest): key, size and version (the local
-- file's mtime in ns, or the S3 ETag) when staged. stage_songs stages only files that are new or
-- differ from this; publish_day records what its run staged. A file removed from the lake keeps
-- its row and its songs (published songplays refer to them).
create table if not exists public.song_files (
    file_key text,
    size bigint,
    version text,
    published_on date
);

-- One row per song_id.
create table if not exists public.songs (
    song_id text,
    title text,
    artist_id text,
    year integer,
    duration double precision
);
create index if not exists songs_song_id_idx on public.songs (song_id);
create index if not exists songs_title_idx on public.songs (title);

-- One row per artist_id.
create table if not exists public.artists (
    artist_id text,
    name text,
    location text,
    latitude double precision,
    longitude double precision
);
create index if not exists artists_artist_id_idx on public.artists (artist_id);

-- One row per start_time of a songplay.
create table if not exists public.time (
    start_time timestamp,
    hour integer,
    day integer,
    week integer,
    month integer,
    year integer,
    weekday integer
);
create index if not exists time_start_time_idx on public.time (start_time);
