-- After staging_events' COPY on Redshift: the staging rules (staging/event_rules.sql) move
-- the events that break them from staging_events to the run's quarantine. Redshift keeps no
-- line numbers of staged rows: line_number is NULL and "raw" (a reserved word in Redshift, so quoted) holds the staged fields.
create temp table ranked_events as
{% include "staging/event_rules.sql" %};

insert into quarantine (day, source, file, line_number, "raw", reason)
select
    cast(%(day)s as date) as day,
    'events' as source,
    %(file)s as file,
    null as line_number,
    coalesce(cast(ts as varchar), '') || '|' || coalesce(user_id, '') || '|' || coalesce(cast(session_id as varchar), '')
    || '|' || coalesce(cast(item_in_session as varchar), '') || '|' || coalesce(page, '') || '|' || coalesce(song, '') as "raw",
    rejected_because as reason
from ranked_events
where rejected_because is not null;

delete from staging_events;

insert into staging_events
select
    artist,
    auth,
    first_name,
    gender,
    item_in_session,
    last_name,
    length,
    level,
    location,
    method,
    page,
    registration,
    session_id,
    song,
    status,
    ts,
    user_agent,
    user_id
from ranked_events
where rejected_because is null;

drop table ranked_events;
