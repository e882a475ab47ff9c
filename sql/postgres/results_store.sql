-- The shared results store, PostgreSQL dialect: one row per validation (run and suite), pass or
-- fail, written by each validation task in its own transaction (outside the day's publish), so
-- every machine (workers, the API server, notebooks) reads the same results. Idempotent.
-- Runs that create it together must not create the same objects twice at once.
select pg_advisory_xact_lock(hashtext('sparkify.results_store'));

create schema if not exists dq;

create table if not exists dq.validation_results (
    run_id varchar(250) not null,  -- the Airflow run id (GX's run name)
    day date not null,  -- the day the run loaded (its operators' `day`)
    suite varchar(128) not null,
    table_name varchar(128) not null,
    success boolean not null,  -- no critical expectation failed
    gx_success boolean not null,  -- every expectation passed, warnings included
    evaluated integer,
    failed_critical integer not null,
    failed_warning integer not null,
    unexpected_count bigint,  -- summed over the failed expectations
    row_count bigint,  -- rows the validated table held
    duration_seconds double precision,
    run_time varchar(64) not null,  -- GX's key: suite / run_name / run_time / batch
    batch_identifier varchar(512) not null,
    asset_name varchar(256),
    data_docs_page varchar(1024),  -- the page's path inside the published site
    result_json jsonb not null,  -- the validation result exactly as GX serialised it
    stored_at timestamp not null default (now() at time zone 'utc'),
    primary key (run_id, suite)
);

create index if not exists validation_results_stored_at on dq.validation_results (stored_at desc);
create index if not exists validation_results_day on dq.validation_results (day desc, suite);

-- publish_data_docs holds this table's lock while it renders and writes the index, so two
-- publishes never interleave their index writes.
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
    stored_at timestamp not null default (now() at time zone 'utc'),
    primary key (run_id)
);

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
    stored_at timestamp not null default (now() at time zone 'utc'),
    primary key (run_id, table_name, metric)
);

create index if not exists day_metrics_day on dq.day_metrics (table_name, metric, day desc);

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
    stored_at timestamp not null default (now() at time zone 'utc'),
    primary key (run_id, source, field)
);

create index if not exists lake_fields_day on dq.lake_fields (source, day desc);

-- Each day's profile of the tables a run staged and loaded (sparkify/quality/store/profiles.py),
-- one row per column, written by the table's validation task with its result row, before
-- publish_day drops the run's schema. A day that ran more than once keeps its newest run's
-- profile of each table. make suggest drafts suites from these rows, make backtest decides past
-- days from them. A sensitive column (gx/sensitive_columns.toml) keeps counts only.
create table if not exists dq.day_profiles (
    run_id varchar(250) not null,
    day date not null,
    table_name varchar(128) not null,
    column_name varchar(128) not null,
    kind varchar(16) not null,  -- number, time, boolean or text
    row_count bigint not null,  -- rows of the table that day
    null_count bigint not null,
    distinct_count bigint,  -- distinct non-null values; null when not counted (PostgreSQL: neither few nor near-unique)
    min_value double precision,  -- numbers, and times as epoch seconds; null when sensitive or text
    max_value double precision,
    value_counts varchar(65535),  -- JSON {value: rows} when at most 20 distinct values and not sensitive
    sensitive boolean not null,
    failed_critical boolean not null,  -- the run's validations had failed a critical check
    stored_at timestamp not null default (now() at time zone 'utc'),
    primary key (run_id, table_name, column_name)
);

create index if not exists day_profiles_day on dq.day_profiles (table_name, day desc);

-- Each run that reached publish_day (sparkify/quality/store/publishes.py), written in the
-- transaction that publishes or holds it: which run's audit copies became the day's published
-- rows and when, or why they were held for review and what a person decided. The newest
-- published row of a day is what the day's published tables hold; pages read "published" and
-- "waiting for review" from here, not from task states.
create table if not exists dq.day_publishes (
    day date not null,
    run_id varchar(250) not null,
    state varchar(16) not null,  -- published, waiting (for a decision), held, superseded
    recorded_at timestamp not null,  -- when publish_day wrote the row (UTC)
    held_at timestamp,  -- when the run was held for review; null: published without a hold
    published_at timestamp,  -- when its rows were published; null: not published
    rows_published bigint,  -- over the star schema's five tables
    decided_by varchar(250),  -- who decided a held run (the Airflow user, or make review's)
    decided_at timestamp,
    reason varchar(4096),
    checks text,  -- JSON: the failed review-severity checks that held it, values masked
    primary key (run_id)
);

create index if not exists day_publishes_day on dq.day_publishes (day desc, recorded_at desc);
