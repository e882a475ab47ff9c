-- The shared results store, Redshift dialect (see sql/postgres/results_store.sql). The result
-- JSON is a SUPER value (json_parse), which holds up to 16 MB.
create schema if not exists dq;

create table if not exists dq.validation_results (
    run_id varchar(250) not null,
    day date not null,
    suite varchar(128) not null,
    table_name varchar(128) not null,
    success boolean not null,
    gx_success boolean not null,
    evaluated integer,
    failed_critical integer not null,
    failed_warning integer not null,
    unexpected_count bigint,
    row_count bigint,
    duration_seconds double precision,
    run_time varchar(64) not null,
    batch_identifier varchar(512) not null,
    asset_name varchar(256),
    data_docs_page varchar(1024),
    result_json super not null,
    stored_at timestamp not null default getdate(),
    primary key (run_id, suite)
)
diststyle all
sortkey (stored_at);

create table if not exists dq.docs_publish_lock (held boolean);

-- The key of the markers that replace sensitive values in reports (sparkify/quality/redact.py):
-- one random secret per warehouse, written once by the first prepare_warehouse.
create table if not exists dq.redaction_key (secret varchar(64) not null);

-- When each run's day file arrived in the lake (wait_for_events: the file's mtime or S3
-- LastModified), written by prepare_warehouse; lateness is against the day's end (00:00 UTC after
-- it), negative when the file came before the day was over.
create table if not exists dq.arrivals (
    run_id varchar(250) not null,
    day date not null,
    lake_key varchar(1024) not null,
    modified timestamp not null,  -- UTC
    lateness_seconds double precision not null,
    stored_at timestamp not null default getdate(),
    primary key (run_id)
)
diststyle all
sortkey (day);

-- Each run's per-day metrics of its validated tables (sparkify/quality/metrics.py), written by the
-- table's validation task in the transaction of its result row, pass or fail. validate_history
-- compares the day's checked metrics with the days published before it (gx/history.toml) and
-- records the outcome on the row: status 'ok', 'anomaly' or 'not enough history', the expected
-- range and the number of baseline days; status stays null for a metric that is not checked.
create table if not exists dq.day_metrics (
    run_id varchar(250) not null,
    day date not null,
    table_name varchar(128) not null,
    metric varchar(128) not null,
    value double precision,  -- null for a share of an empty table
    failed_critical boolean not null,  -- the table's validation failed a critical check
    status varchar(32),
    expected_min double precision,
    expected_max double precision,
    baseline_days integer,
    stored_at timestamp not null default getdate(),
    primary key (run_id, table_name, metric)
)
diststyle all
sortkey (table_name, metric, day);

-- The top-level JSON fields of the lake records a run staged (stage_events, stage_songs), each
-- with the number of records carrying it: validate_lake_fields compares a day's fields with the
-- days published before it (schema drift).
create table if not exists dq.lake_fields (
    run_id varchar(250) not null,
    day date not null,
    source varchar(16) not null,  -- events or songs (staging_events, staging_songs)
    field varchar(256) not null,
    records integer not null,  -- records (event lines, song objects) with this field
    total_records integer not null,  -- JSON objects read by the staging task
    stored_at timestamp not null default getdate(),
    primary key (run_id, source, field)
)
diststyle all
sortkey (source, day);

-- Each day's profile of the tables a run staged and loaded (sparkify/quality/store/profiles.py),
-- one row per column; see the PostgreSQL file for each column.
create table if not exists dq.day_profiles (
    run_id varchar(250) not null,
    day date not null,
    table_name varchar(128) not null,
    column_name varchar(128) not null,
    kind varchar(16) not null,
    row_count bigint not null,
    null_count bigint not null,
    distinct_count bigint,
    min_value double precision,
    max_value double precision,
    value_counts varchar(65535),
    sensitive boolean not null,
    failed_critical boolean not null,
    stored_at timestamp not null default getdate(),
    primary key (run_id, table_name, column_name)
)
diststyle all
sortkey (table_name, day);

-- Each run that reached publish_day; see the PostgreSQL file.
create table if not exists dq.day_publishes (
    day date not null,
    run_id varchar(250) not null,
    state varchar(16) not null,
    recorded_at timestamp not null,
    held_at timestamp,
    published_at timestamp,
    rows_published bigint,
    decided_by varchar(250),
    decided_at timestamp,
    reason varchar(4096),
    checks varchar(65535),
    primary key (run_id)
)
diststyle all
sortkey (day);
