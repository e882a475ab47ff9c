-- One validation's row in the shared results store (sql/<dialect>/results_store.sql), replacing
-- the row of an earlier attempt of the same run and suite. {{ json_value }} is the dialect's
-- JSON conversion of the bind value, chosen in code.
delete from dq.validation_results where run_id = %(run_id)s and suite = %(suite)s;

insert into dq.validation_results (
    run_id, day, suite, table_name, success, gx_success, evaluated, failed_critical, failed_warning,
    unexpected_count, row_count, duration_seconds, run_time, batch_identifier, asset_name, data_docs_page, result_json
)
values (
    %(run_id)s, cast(%(day)s as date), %(suite)s, %(table_name)s, %(success)s, %(gx_success)s, %(evaluated)s,
    %(failed_critical)s, %(failed_warning)s, %(unexpected_count)s, %(row_count)s, %(duration_seconds)s, %(run_time)s, %(batch_identifier)s,
    %(asset_name)s, %(data_docs_page)s, {{ json_value }}
);
