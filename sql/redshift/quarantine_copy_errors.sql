-- After a staging COPY on Redshift: every line it could not load (logged by Redshift in
-- stl_load_errors, the line's first 1,024 bytes) goes to the run's quarantine table.
insert into quarantine (day, source, file, line_number, "raw", reason)
select
    cast(%(day)s as date) as day,
    %(source)s as source,
    trim(filename) as file,
    line_number,
    trim(raw_line) as "raw",
    trim(colname) || ': ' || trim(err_reason) as reason
from stl_load_errors
where query = pg_last_copy_id();
