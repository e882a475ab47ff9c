-- time (the run's audit copy): one row per start_time of the day's songplays; publish_day
-- replaces the day's slice of public.time with it.
-- weekday follows extract(dow): 0 = Sunday .. 6 = Saturday; week is the ISO week.
delete from time;

insert into time (start_time, hour, day, week, month, year, weekday)
with day_starts as (
    select distinct start_time
    from songplays
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
