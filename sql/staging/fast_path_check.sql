-- How many rows the fast path (DuckDB -> COPY) let through that break a staging rule; any,
-- and the file goes line by line instead, where each such line is quarantined with its number.
select count(*)
from (
    {% include "staging/event_rules.sql" %}
) as checked
where checked.rejected_because is not null
