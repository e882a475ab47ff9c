-- Views of the run's schema shared by every dialect; run after sql/<dialect>/run_tables.sql.
-- What staging read, for the quarantine checks: every line is staged or quarantined, and the
-- share quarantined stays under the threshold (Variable sparkify_max_quarantine_rate).
create view staging_summary as
with events_staged as (select count(*) as staged from staging_events),

events_quarantined as (select count(*) as quarantined from quarantine where source = 'events'),

songs_staged as (select count(*) as staged from staging_songs),

songs_quarantined as (select count(*) as quarantined from quarantine where source = 'songs')

select
    e.staged as events_staged,
    qe.quarantined as events_quarantined,
    e.staged + qe.quarantined as events_read,
    case
        when e.staged + qe.quarantined = 0 then 0.0
        else cast(qe.quarantined as double precision) / (e.staged + qe.quarantined)
    end as events_quarantine_rate,
    s.staged as songs_staged,
    qs.quarantined as songs_quarantined,
    case
        when s.staged + qs.quarantined = 0 then 0.0
        else cast(qs.quarantined as double precision) / (s.staged + qs.quarantined)
    end as songs_quarantine_rate
from events_staged as e
cross join events_quarantined as qe
cross join songs_staged as s
cross join songs_quarantined as qs;
