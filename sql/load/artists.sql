-- artists (the run's audit copy): one row per artist_id of the staged song files; publish_day
-- upserts them into public.artists. When an artist's songs disagree, the row of the artist's
-- first song_id wins; an empty location is stored as NULL.
delete from artists;

insert into artists (artist_id, name, location, latitude, longitude)
with ranked as (
    select
        artist_id,
        artist_name as name,
        nullif(artist_location, '') as location,
        artist_latitude as latitude,
        artist_longitude as longitude,
        row_number() over (partition by artist_id order by song_id) as artist_rank
    from staging_songs
    where artist_id is not null
)

select artist_id, name, location, latitude, longitude
from ranked
where artist_rank = 1;
