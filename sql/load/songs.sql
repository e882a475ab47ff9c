-- songs: one row per song_id, from the song files staged for this run (upsert).
-- year 0 in the source means "unknown" and is stored as NULL.
create temp table songs_day as
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

delete from songs
using songs_day
where songs.song_id = songs_day.song_id;

insert into songs (song_id, title, artist_id, year, duration)
select song_id, title, artist_id, year, duration
from songs_day;

drop table songs_day;
