-- run_context: the one day this run processes, in the run's schema.
insert into run_context (day) values (cast(%(day)s as date));
