-- publish_day: move the run's audit copies (its schema, first on search_path) into the
-- published tables in public, in ONE transaction, after every critical check passed. Each
-- table is locked just before it changes (always in this order, so concurrent publishes queue
-- instead of deadlocking); a kill or lost session at any point rolls the whole day back.
-- The run's schema is dropped in the same transaction: published and cleaned up, or neither.

lock table public.songplays;
delete from public.songplays
where
    start_time >= cast(%(day)s as timestamp)
    and start_time < cast(%(day)s as timestamp) + interval '1 day';
insert into public.songplays select * from songplays;

-- Songs and artists: only those of the song files this run staged (its copies also hold the
-- rest of the published catalog, which may have changed since; it is left as it is).
lock table public.songs;
delete from public.songs where song_id in (select song_id from staging_songs);
insert into public.songs select * from songs where song_id in (select s.song_id from staging_songs as s);

lock table public.artists;
delete from public.artists where artist_id in (select artist_id from staging_songs);
insert into public.artists select * from artists where artist_id in (select s.artist_id from staging_songs as s);

-- The manifest: the files this run staged, as staged (a later run stages them again only if they change).
lock table public.song_files;
delete from public.song_files where file_key in (select file_key from staged_song_files);
insert into public.song_files (file_key, size, version, published_on)
select
    file_key,
    size,
    version,
    cast(%(day)s as date) as published_on
from staged_song_files;

-- A user's row is replaced only by a newer or equal event (another day may have published a
-- newer one since this run's load).
lock table public.users;
delete from public.users
where exists (
    select 1 from users as d
    where d.user_id = public.users.user_id and public.users.last_event_ts <= d.last_event_ts
);
insert into public.users
select * from users as d
where not exists (select 1 from public.users as u where u.user_id = d.user_id);

lock table public.time;
delete from public.time
where
    start_time >= cast(%(day)s as timestamp)
    and start_time < cast(%(day)s as timestamp) + interval '1 day';
insert into public.time select * from time;

lock table public.quarantine;
delete from public.quarantine where day = cast(%(day)s as date);
insert into public.quarantine select * from quarantine;
