-- artists: one row per artist_id, from the staged song files (upsert). When an artist's songs
-- disagree, the row of the artist's first song_id wins; an empty location is stored as NULL.
create temp table artists_day as
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

delete from artists
using artists_day
where artists.artist_id = artists_day.artist_id;

insert into artists (artist_id, name, location, latitude, longitude)
select artist_id, name, location, latitude, longitude
from artists_day;

drop table artists_day;
