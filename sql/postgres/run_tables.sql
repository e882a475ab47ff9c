-- The run's own schema (created empty by prepare_warehouse, which sets search_path to it):
-- staging tables, the lines quarantined while staging, and the audit copies that the loads
-- write, Great Expectations validates and publish_day moves into the published tables.
-- Unqualified names here and in sql/load/*.sql resolve to this schema first, then to public.

-- One row per staged line of the day's event log.
create table staging_events (
    artist text,
    auth text,
    first_name text,
    gender text,
    item_in_session integer,
    last_name text,
    length double precision,
    level text,
    location text,
    method text,
    page text,
    registration double precision,
    session_id bigint,
    song text,
    status integer,
    ts bigint,
    user_agent text,
    user_id text
);

-- One row per staged record of the lake's song files.
create table staging_songs (
    num_songs integer,
    artist_id text,
    artist_latitude double precision,
    artist_longitude double precision,
    artist_location text,
    artist_name text,
    song_id text,
    title text,
    duration double precision,
    year integer
);

-- The song files this run staged (new or changed since the published manifest, public.song_files).
create table staged_song_files (like public.song_files);

-- The day this run processes (read by checks that bound events to the day).
create table run_context (
    day date not null
);

-- This run's quarantined lines and song files (published with the day; kept here if it fails).
create table quarantine (like public.quarantine);

-- Audit copies: the rows this run will publish, with the published tables' columns.
create table songplays (like public.songplays including indexes);
create table users (like public.users including indexes);
create table songs (like public.songs including indexes);
create table artists (like public.artists including indexes);
create table time (like public.time including indexes);
