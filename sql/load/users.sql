-- users (the run's audit copy): one row per user_id of the day's events, carrying the level
-- (and names) of the user's latest event (last_event_ts). Where the published row is newer
-- (a later day already loaded), the published row is kept, so days loaded in any order, or
-- re-run, end with the same table as one in-order run. publish_day merges these rows.
delete from users;

insert into users (user_id, first_name, last_name, gender, level, last_event_ts)
with ranked as (
    select
        user_id,
        first_name,
        last_name,
        gender,
        level,
        ts,
        row_number() over (
            partition by user_id
            order by ts desc, session_id desc, item_in_session desc, level desc
        ) as event_rank
    from staging_events
    where user_id is not null and user_id <> ''
)

select
    d.user_id,
    case when p.last_event_ts > d.ts then p.first_name else d.first_name end as first_name,
    case when p.last_event_ts > d.ts then p.last_name else d.last_name end as last_name,
    case when p.last_event_ts > d.ts then p.gender else d.gender end as gender,
    case when p.last_event_ts > d.ts then p.level else d.level end as level,
    case when p.last_event_ts > d.ts then p.last_event_ts else d.ts end as last_event_ts
from ranked as d
left join public.users as p on d.user_id = p.user_id
where d.event_rank = 1;
