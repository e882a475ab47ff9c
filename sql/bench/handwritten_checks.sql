-- The benchmark's baseline: one hand-written query per suite computing the same checks as the
-- GX suites of a day (the number of offending rows per check). make bench times these against
-- the GX validations; nothing in the DAG runs them. Like GX, they read the run's schema (first on
-- the search path): the day's staging tables and audit copies.

-- staging_events
select
    count(*) as row_count,
    count(*) filter (where e.ts is null) as null_ts,
    count(*) filter (where e.page is null) as null_page,
    count(*) filter (where e.session_id is null) as null_session,
    count(*) filter (where e.level not in ('free', 'paid')) as bad_level,
    count(*) filter (
        where timestamp 'epoch' + e.ts * interval '1 millisecond' < rc.day
        or timestamp 'epoch' + e.ts * interval '1 millisecond' >= rc.day + interval '1 day'
    ) as off_day,
    count(*) filter (where e.page = 'NextSong' and (e.user_id is null or e.user_id = '')) as play_without_user
from staging_events as e, run_context as rc
group by rc.day;

-- staging_songs
select
    count(*) as row_count,
    count(*) filter (where song_id is null) as null_song_id,
    count(*) filter (where artist_id is null) as null_artist_id,
    count(*) filter (where title is null) as null_title,
    count(*) filter (where duration <= 0) as bad_duration,
    count(*) - count(distinct song_id) as duplicate_song_id
from staging_songs;

-- songs
select
    (select count(*) from songs) as row_count,
    (select count(*) from songs where song_id is null) as null_song_id,
    (select count(*) - count(distinct song_id) from songs) as duplicate_song_id,
    (select count(*) from songs where artist_id is null) as null_artist_id,
    (select count(*) from songs where duration <= 0) as bad_duration,
    (
        select count(distinct s.song_id) from staging_songs as s
        where s.song_id is not null and not exists (select 1 from songs as t where t.song_id = s.song_id)
    ) as missing;

-- artists
select
    (select count(*) from artists) as row_count,
    (select count(*) from artists where artist_id is null) as null_artist_id,
    (select count(*) - count(distinct artist_id) from artists) as duplicate_artist_id,
    (
        select count(distinct s.artist_id) from staging_songs as s
        where s.artist_id is not null and not exists (select 1 from artists as t where t.artist_id = s.artist_id)
    ) as missing,
    (select count(*) from artists where location is null) as no_location;

-- users
select
    (select count(*) from users) as row_count,
    (select count(*) from users where user_id is null) as null_user_id,
    (select count(*) - count(distinct user_id) from users) as duplicate_user_id,
    (select count(*) from users where level is null) as null_level,
    (select count(*) from users where level not in ('free', 'paid')) as bad_level,
    (
        select count(distinct s.user_id) from staging_events as s
        where s.user_id <> '' and not exists (select 1 from users as t where t.user_id = s.user_id)
    ) as missing;

-- songplays (the day)
select
    count(*) as row_count,
    count(*) filter (where songplay_id is null) as null_id,
    count(*) - count(distinct songplay_id) as duplicate_id,
    count(*) filter (where start_time is null) as null_start_time,
    count(*) filter (where user_id is null) as null_user_id,
    count(*) filter (where level is null) as null_level,
    count(*) filter (where session_id is null) as null_session_id,
    count(*) filter (where level not in ('free', 'paid')) as bad_level,
    count(*) filter (where song_id is null) as unmatched,
    (
        select count(*) from staging_events as e, run_context as rc
        where
            e.page = 'NextSong'
            and timestamp 'epoch' + e.ts * interval '1 millisecond' >= rc.day
            and timestamp 'epoch' + e.ts * interval '1 millisecond' < rc.day + interval '1 day'
    ) as staged_plays
from songplays;

-- time (the day)
select
    count(*) as row_count,
    count(*) filter (where start_time is null) as null_start_time,
    count(*) - count(distinct start_time) as duplicate_start_time,
    count(*) filter (where hour not between 0 and 23) as bad_hour,
    count(*) filter (where weekday not between 0 and 6) as bad_weekday,
    count(*) filter (where month not between 1 and 12) as bad_month,
    count(*) filter (where day not between 1 and 31) as bad_day,
    (
        select count(distinct sp.start_time) from songplays as sp
        where not exists (select 1 from time as t where t.start_time = sp.start_time)
    ) as missing
from time;

-- referential_integrity (the day's songplays)
select
    count(*) filter (where not exists (select 1 from users as u where u.user_id = sp.user_id)) as orphan_user,
    count(*) filter (where not exists (select 1 from time as t where t.start_time = sp.start_time)) as orphan_time,
    count(*) filter (
        where sp.song_id is not null and not exists (select 1 from songs as s where s.song_id = sp.song_id)
    ) as orphan_song,
    count(*) filter (
        where sp.artist_id is not null and not exists (select 1 from artists as a where a.artist_id = sp.artist_id)
    ) as orphan_artist,
    (
        select count(*) from songs as s
        where not exists (select 1 from artists as a where a.artist_id = s.artist_id)
    ) as song_orphan_artist
from songplays as sp;

-- quarantine
select
    events_read,
    events_quarantine_rate,
    songs_quarantine_rate
from staging_summary;
