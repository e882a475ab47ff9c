-- Views shared by every dialect; run after sql/<dialect>/create_tables.sql.
-- The day's slices that validation reads, bounded by the run's day (run_context).
create or replace view songplays_day as
select sp.*
from songplays as sp
join run_context as rc
    on sp.start_time >= rc.day
    and sp.start_time < rc.day + interval '1 day';

create or replace view time_day as
select t.*
from time as t
join run_context as rc
    on t.start_time >= rc.day
    and t.start_time < rc.day + interval '1 day';
