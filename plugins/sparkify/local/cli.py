"""Command line of the project: python -m sparkify.local.cli <command> (the Makefile calls these)."""

from __future__ import annotations

import argparse
import os


def parser() -> argparse.ArgumentParser:
    """The commands and their options."""
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="start or stop the embedded PostgreSQL")
    wh.add_argument("action", choices=("start", "stop"))

    run = sub.add_parser("run", help="run the DAG for each day START..END over a lake")
    run.add_argument("--lake", required=True, help="lake root: a folder or an s3:// URL")
    run.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    run.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
    run.add_argument("--fresh", action="store_true", help="start from an empty warehouse")
    run.add_argument("--stop-warehouse", action="store_true", help="stop the embedded server at the end")
    run.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="days run at once, one process each (default: the machine's cores; 1: one after another)",
    )
    run.add_argument("--backwards", action="store_true", help="run the newest day first")
    lineage_help = "send OpenLineage events: file (build/openlineage/events.jsonl) or console (the task logs)"
    run.add_argument("--lineage", choices=("file", "console"), help=lineage_help)

    airflow = sub.add_parser("airflow", help="the Airflow UI on localhost (api-server, scheduler, dag-processor, triggerer)")
    airflow.add_argument("--lake", required=True, help="lake root: a folder or an s3:// URL")
    airflow.add_argument("--port", type=int, default=8080)
    airflow.add_argument("--executor", choices=("local", "celery"), default="local", help="LocalExecutor, or Celery workers")
    airflow.add_argument("--workers", type=int, default=2, help="Celery workers (with --executor celery)")
    airflow.add_argument("--lineage", choices=("file", "console"), help=lineage_help)

    sub.add_parser(
        "airflow-env",
        help="print shell exports for the project's Airflow (home .airflow/, dags, plugins, the venv's airflow), DB migrated",
    )

    _authoring_and_review(sub)

    gen = sub.add_parser("generate", help="write a synthetic lake (see sparkify.local.generator)")
    from sparkify.local.generator import add_arguments

    add_arguments(gen)
    return parser


def _authoring_and_review(sub) -> None:
    """make suggest, make backtest, make promote and make review."""
    suggest = sub.add_parser("suggest", help="draft a suite for a table from its stored daily profiles")
    suggest.add_argument("--table", required=True)
    suggest.add_argument("--days", type=int, default=30, help="the last DAYS days that ran")
    suggest.add_argument("--out", help="the draft suite's JSON (default gx/drafts/<table>_suggested.json)")
    backtest = sub.add_parser("backtest", help="what a suite would have said on each of the last days that ran")
    backtest.add_argument("--suite", required=True, help="a committed suite's name or a suite JSON file")
    backtest.add_argument("--days", type=int, default=30)
    backtest.add_argument("--json", dest="json_out", help="write the outcome as JSON to this file")

    promote = sub.add_parser("promote", help="merge a reviewed draft into a committed suite, or a new suite of its table")
    promote.add_argument("--suite", required=True, help="the draft suite's JSON file")
    promote.add_argument("--into", help="the committed suite (default: the draft's table's), or a new suite's name")
    promote.add_argument("--critical", default="", help="numbers of the draft's expectations promoted as critical")
    promote.add_argument("--replace", default="", help="numbers of the draft's expectations that replace the suite's")
    promote.add_argument("--drop", default="", help="committed expectations to drop: ids or labels (separated by ;)")
    promote.add_argument("--yes", action="store_true", help="write without asking")

    review = sub.add_parser("review", help="decide a day held for review: publish it, or hold it")
    review.add_argument("--day", required=True, help="the held day, YYYY-MM-DD")
    review.add_argument("--decision", required=True, help="publish or hold")
    review.add_argument("--reason", default="", help="why (recorded with the decision; required)")
    review.add_argument("--by", help="who decides (default: SPARKIFY_REVIEWER, else the operating-system user)")
    lineage_help = "send a publish's OpenLineage event: file (build/openlineage/events.jsonl) or console"
    review.add_argument("--lineage", choices=("file", "console"), help=lineage_help)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "lineage", None):
        from sparkify.local.airflow_home import lineage_env

        os.environ.update(lineage_env(args.lineage))  # every Airflow process started from here inherits it
    if args.command == "warehouse":
        from sparkify.local import embedded
        from sparkify.local.airflow_home import warehouse_dir

        if args.action == "start":
            server = embedded.start(warehouse_dir() / "pgdata")
            print(f"Embedded PostgreSQL running; Airflow connection:\n{server.connection_json()}")
        else:
            print("stopped" if embedded.stop(warehouse_dir() / "pgdata") else "was not running")
        return 0
    if args.command == "airflow-env":
        from sparkify.local.airflow_home import shell_exports

        print(shell_exports())
        return 0
    if args.command == "generate":
        from sparkify.local.generator import generate_from_args

        generate_from_args(args)
        return 0
    if args.command in ("suggest", "backtest", "promote"):
        from sparkify.local import authoring

        if args.command == "suggest":
            return authoring.suggest(args.table, days=args.days, out=args.out)
        if args.command == "promote":
            return authoring.promote(args.suite, into=args.into, critical=args.critical, replace=args.replace, drop=args.drop, yes=args.yes)
        return authoring.backtest(args.suite, days=args.days, json_out=args.json_out)
    if args.command == "review":
        from sparkify.local import review

        return review.main(args.day, args.decision, args.reason, by=args.by)
    if args.command == "airflow":
        from sparkify.local import ui

        return ui.main(args.lake, args.port, args.executor, args.workers)
    from sparkify.local import runner
    from sparkify.local.airflow_home import warehouse_dir

    try:
        return runner.run(args.lake, args.start, args.end, fresh=args.fresh, jobs=args.jobs, backwards=args.backwards)
    finally:
        if args.stop_warehouse:
            from sparkify.local import embedded

            embedded.stop(warehouse_dir() / "pgdata")


if __name__ == "__main__":
    raise SystemExit(main())
