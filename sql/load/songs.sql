-- songs (the run's audit copy): the whole catalog as it will be after publishing. staging_songs
-- holds only the song files new or changed since the published manifest (public.song_files), so
-- the copy is those files' songs (one row per song_id) plus every published song they do not
-- replace; publish_day upserts only the staged song_ids. year 0 in the source means "unknown": NULL.
delete from songs;

insert into songs (song_id, title, artist_id, year, duration)
with ranked as (
    select
        song_id,
        title,
        artist_id,
        nullif(year, 0) as year,
        duration,
        row_number() over (partition by song_id order by artist_id, title, duration) as song_rank
    from staging_songs
    where song_id is not null
)

select
    song_id,
    title,
    artist_id,
    year,
    duration
from ranked
where song_rank = 1;

-- The rest of the published catalog (public.songs: this run's schema shadows the name).
insert into songs (song_id, title, artist_id, year, duration)
select
    p.song_id,
    p.title,
    p.artist_id,
    p.year,
    p.duration
from public.songs as p
where not exists (select 1 from songs as s where s.song_id = p.song_id);
