-- The staging rules of events in SQL, written once; included by staging/fast_path_check.sql
-- (PostgreSQL's fast path) and redshift/quarantine_events.sql (after Redshift's COPY).
-- One row per staged event; rejected_because is NULL for an event that keeps every rule:
-- it has a ts, a NextSong has a userId, and it is not a repeat of an earlier event (same ts,
-- user, session, item). The line-by-line path applies the same rules in
-- sparkify.staging.records.EventRules, which also knows each line's number.
select
    staged.*,
    case
        when staged.ts is null then 'event without ts'
        when staged.page = 'NextSong' and (staged.user_id is null or staged.user_id = '') then 'NextSong event without userId'
        when staged.copy_rank > 1 then 'duplicate of an earlier line (same ts, userId, sessionId, itemInSession)'
    end as rejected_because
from (
    select
        e.*,
        row_number() over (partition by e.ts, e.user_id, e.session_id, e.item_in_session order by e.ts) as copy_rank
    from staging_events as e
) as staged
