-- time: one row per start_time of the day's songplays; the day's slice is replaced.
-- weekday follows extract(dow): 0 = Sunday .. 6 = Saturday; week is the ISO week.
delete from time
where start_time >= cast(%(day)s as timestamp)
    and start_time < cast(%(day)s as timestamp) + interval '1 day';

insert into time (start_time, hour, day, week, month, year, weekday)
with day_starts as (
    select distinct start_time
    from songplays
    where start_time >= cast(%(day)s as timestamp)
        and start_time < cast(%(day)s as timestamp) + interval '1 day'
)

select
    start_time,
    cast(extract(hour from start_time) as integer) as hour,
    cast(extract(day from start_time) as integer) as day,
    cast(extract(week from start_time) as integer) as week,
    cast(extract(month from start_time) as integer) as month,
    cast(extract(year from start_time) as integer) as year,
    cast(extract(dow from start_time) as integer) as weekday
from day_starts;
