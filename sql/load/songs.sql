-- songs (the run's audit copy): one row per song_id of the song files staged for this run;
-- publish_day upserts them into public.songs. year 0 in the source means "unknown": NULL.
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

select song_id, title, artist_id, year, duration
from ranked
where song_rank = 1;
