-- artists (the run's audit copy): the whole catalog's artists as they will be after publishing:
-- one row per artist_id of the staged song files (new or changed since the published manifest),
-- plus every published artist they do not replace; publish_day upserts only the staged
-- artist_ids. When an artist's staged songs disagree, the row of the artist's first staged
-- song_id wins; an empty location is stored as NULL.
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

select
    artist_id,
    name,
    location,
    latitude,
    longitude
from ranked
where artist_rank = 1;

-- The rest of the published artists (public.artists: this run's schema shadows the name).
insert into artists (artist_id, name, location, latitude, longitude)
select
    p.artist_id,
    p.name,
    p.location,
    p.latitude,
    p.longitude
from public.artists as p
where not exists (select 1 from artists as a where a.artist_id = p.artist_id);
