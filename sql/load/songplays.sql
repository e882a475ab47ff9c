-- songplays (the run's audit copy): one row per NextSong event of the day. publish_day replaces
-- the day's partition of public.songplays with it, so re-runs and backfills never duplicate rows.
-- songplay_id is an md5 of the event's identity (ts, user, session, item): stable across runs.
-- Songs and artists are matched against this run's audit copies (the whole catalog, see songs.sql).
delete from songplays;

insert into songplays (
    songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
)
with plays as (
    select
        timestamp 'epoch' + ts * interval '1 millisecond' as start_time,
        ts,
        user_id,
        level,
        song,
        artist,
        length,
        session_id,
        item_in_session,
        location,
        user_agent
    from staging_events
    where page = 'NextSong'
),

day_plays as (
    select *
    from plays
    where
        start_time >= cast(%(day)s as timestamp)
        and start_time < cast(%(day)s as timestamp) + interval '1 day'
),

catalog as (
    select
        s.song_id,
        s.title,
        s.duration,
        a.artist_id,
        a.name as artist_name
    from songs as s
    inner join artists as a on s.artist_id = a.artist_id
),

matched as (
    select
        p.*,
        c.song_id,
        c.artist_id,
        row_number() over (
            partition by p.ts, p.user_id, p.session_id, p.item_in_session
            order by c.song_id
        ) as match_rank
    from day_plays as p
    left join catalog as c
        on
            p.song = c.title
            and p.artist = c.artist_name
            and p.length = c.duration
)

select
    md5(
        cast(ts as varchar) || '|' || coalesce(user_id, '') || '|'
        || coalesce(cast(session_id as varchar), '') || '|'
        || coalesce(cast(item_in_session as varchar), '')
    ) as songplay_id,
    start_time,
    user_id,
    level,
    song_id,
    artist_id,
    session_id,
    location,
    user_agent
from matched
where match_rank = 1;
