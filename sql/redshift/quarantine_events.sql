-- After staging_events' COPY on Redshift: the rules the PostgreSQL path applies line by line.
-- An event without ts, a NextSong without userId, and a repeat of an earlier event (same ts,
-- user, session, item) leave staging_events for the run's quarantine. Redshift keeps no line
-- numbers of staged rows: line_number is NULL and raw holds the staged fields.
create temp table ranked_events as
select
    *,
    row_number() over (partition by ts, user_id, session_id, item_in_session order by ts) as copy_rank
from staging_events;

insert into quarantine (day, source, file, line_number, raw, reason)
select
    cast(%(day)s as date),
    'events',
    %(file)s,
    null,
    coalesce(cast(ts as varchar), '') || '|' || coalesce(user_id, '') || '|' || coalesce(cast(session_id as varchar), '')
    || '|' || coalesce(cast(item_in_session as varchar), '') || '|' || coalesce(page, '') || '|' || coalesce(song, ''),
    case
        when ts is null then 'event without ts'
        when page = 'NextSong' and (user_id is null or user_id = '') then 'NextSong event without userId'
        else 'duplicate of an earlier line (same ts, userId, sessionId, itemInSession)'
    end
from ranked_events
where ts is null or (page = 'NextSong' and (user_id is null or user_id = '')) or copy_rank > 1;

delete from staging_events;

insert into staging_events
select
    artist, auth, first_name, gender, item_in_session, last_name, length, level, location, method, page,
    registration, session_id, song, status, ts, user_agent, user_id
from ranked_events
where not (ts is null or (page = 'NextSong' and (user_id is null or user_id = ''))) and copy_rank = 1;

drop table ranked_events;
