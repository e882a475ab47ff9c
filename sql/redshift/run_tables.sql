-- The run's own schema (created empty by prepare_warehouse, which sets search_path to it):
-- staging tables, the lines quarantined while staging, and the audit copies that the loads
-- write, Great Expectations validates and publish_day moves into the published tables.
-- Unqualified names here and in sql/load/*.sql resolve to this schema first, then to public.

create table staging_events (
    artist varchar(512),
    auth varchar(32),
    first_name varchar(256),
    gender varchar(8),
    item_in_session integer,
    last_name varchar(256),
    length double precision,
    level varchar(16),
    location varchar(512),
    method varchar(16),
    page varchar(64),
    registration double precision,
    session_id bigint,
    song varchar(512),
    status integer,
    ts bigint,
    user_agent varchar(1024),
    user_id varchar(64)
)
diststyle even;

create table staging_songs (
    num_songs integer,
    artist_id varchar(32),
    artist_latitude double precision,
    artist_longitude double precision,
    artist_location varchar(512),
    artist_name varchar(512),
    song_id varchar(32),
    title varchar(512),
    duration double precision,
    year integer
)
diststyle even;

-- The song files this run staged (new or changed since the published manifest, public.song_files).
create table staged_song_files (like public.song_files);

-- The day this run processes (read by checks that bound events to the day).
create table run_context (
    day date not null
)
diststyle all;

-- This run's quarantined lines and song files (published with the day; kept here if it fails).
create table quarantine (like public.quarantine);

-- Audit copies: the rows this run will publish, with the published tables' columns.
create table songplays (like public.songplays);
create table users (like public.users);
create table songs (like public.songs);
create table artists (like public.artists);
create table time (like public.time);
