-- run_context: the one day this run processes (read by the *_day validation views).
delete from run_context;

insert into run_context (day) values (cast(%(day)s as date));
