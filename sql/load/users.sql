-- users: one row per user_id, carrying the level (and names) of the user's latest event.
-- A row is replaced only by a newer or equal event (last_event_ts), so days loaded in any
-- order, or re-run, end with the same table as one in-order run.
create temp table users_day as
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

select user_id, first_name, last_name, gender, level, ts as last_event_ts
from ranked
where event_rank = 1;

delete from users
using users_day
where users.user_id = users_day.user_id
    and users.last_event_ts <= users_day.last_event_ts;

insert into users (user_id, first_name, last_name, gender, level, last_event_ts)
select d.user_id, d.first_name, d.last_name, d.gender, d.level, d.last_event_ts
from users_day as d
where not exists (select 1 from users as u where u.user_id = d.user_id);

drop table users_day;
