"""``run SCENARIO``: run the replications, print the KPIs per segment against the targets and the
pools, write the run folder (``sim.outputs.folders.write_run``)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from sim.cli.common import (
    UsageError,
    add_debug,
    add_force,
    add_set,
    output_folder,
    positive_int,
    progress_bar,
    seed,
    ticker,
)
from sim.evidence.log_reading import Log, parse_mapping, read_log
from sim.experiments.replications import default_jobs, run, run_to_precision
from sim.experiments.stats import PrecisionError
from sim.experiments.warm_start import warm_start
from sim.outputs.event_log import EVENT_FORMATS
from sim.outputs.folders import write_run
from sim.outputs.publish import staged
from sim.outputs.run_text import (
    format_backlog,
    format_backlog_kpis,
    format_companies,
    format_monthly,
    format_precision,
    format_result,
)
from sim.outputs.tables import FORMATS
from sim.scenario import load_scenario


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser("run", help="run a scenario and print its KPIs per segment")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--reps", type=positive_int, help="replications (default: the scenario's)")
    p.add_argument("--seed", type=seed, help="random seed (default: the scenario's)")
    add_set(p, "replace an existing scenario key, e.g. resources.inspector.capacity=4")
    p.add_argument("--out", type=Path, help="output folder (default: results/SCENARIO_NAME)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--jobs", type=positive_int, help="worker processes (default: all cores)")
    p.add_argument("--events", action="store_true", help="also write the stage event log (events)")
    p.add_argument(
        "--company",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this supply company of the scenario (repeat, or NAME,NAME: several)",
    )
    p.add_argument(
        "--monthly",
        action="store_true",
        help="print and write results per month of application (always for dated measures)",
    )
    p.add_argument(
        "--precision",
        action="append",
        default=[],
        metavar="KPI=H",
        help="run replications until KPI's 95%% half-width is at most H (or H%% of its mean), "
        "e.g. on_target_share=0.02 or lv_smb.handling_wd_mean=5%%; --reps is then the first batch",
    )
    p.add_argument("--max-reps", type=positive_int, default=100, help="cap for --precision (100)")
    p.add_argument(
        "--events-format",
        choices=EVENT_FORMATS,
        help="event log format (implies --events; default: the table format); xes is IEEE 1849 XES",
    )
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of what is printed")
    p.add_argument(
        "--warm-start",
        metavar="LOG",
        help="start at --cut-off from the open cases of this event log (.csv, .parquet, .xes) "
        "instead of empty pools and a warm-up (docs/warm-start.md)",
    )
    p.add_argument("--cut-off", type=cut_off_date, metavar="YYYY-MM-DD", help="the date of --warm-start")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="with --warm-start: the log's column for a standard one (as for fit)",
    )
    add_force(p)
    add_debug(p)


def cut_off_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}") from None


def _warm_start_log(args: argparse.Namespace, scenario) -> Log | None:
    """The log of ``--warm-start`` (None without it), read before anything runs; rows of
    activities that are not the scenario's stages are skipped (and counted) as it is read."""
    if args.warm_start is None:
        if args.cut_off is not None or args.map:
            raise UsageError("--cut-off and --map go with --warm-start LOG; add it, or leave them out")
        return None
    if args.cut_off is None:
        raise UsageError("--warm-start needs --cut-off YYYY-MM-DD: the date its open cases are taken at")
    if args.precision or args.company:
        raise UsageError(
            "--warm-start runs the whole scenario its replications: leave out --precision and --company"
        )
    return read_log(args.warm_start, parse_mapping(args.map), stages=scenario.stages, scenario=scenario.name)


def command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    log = _warm_start_log(args, scenario)
    if log is not None and scenario.companies:
        raise UsageError(
            f"--warm-start: {args.scenario} has companies; a warm start of a city is not supported"
        )
    if args.company:
        names = [n.strip() for item in args.company for n in item.split(",") if n.strip()]
        try:
            scenario = scenario.only(names)
        except ValueError as exc:
            raise UsageError(f"--company: {exc}") from None
    default = scenario.name + "".join(f"-{c}" for c in scenario.companies) if args.company else scenario.name
    out = output_folder(args.out or Path("results") / default, ("run", scenario.name), args.force)
    reps = args.reps or scenario.replications
    # a city's companies run as tasks of their own, side by side (the same tables)
    split = bool(scenario.companies) and not scenario.shared_pools and not args.precision
    tasks = reps * (len(scenario.companies) if split else 1)
    jobs = args.jobs or min(default_jobs(), tasks)
    events = args.events or args.events_format is not None
    bar = progress_bar(tasks, scenario.name, "company run" if split else "rep")
    try:
        if log is not None:
            warm = warm_start(
                scenario,
                log,
                args.cut_off,
                reps=reps,
                seed=args.seed,
                jobs=jobs,
                progress=ticker(bar),
                events=events,
            )
            result = warm.result
        elif args.precision:
            try:
                result, precision = run_to_precision(
                    scenario,
                    args.precision,
                    reps=args.reps,
                    max_reps=args.max_reps,
                    seed=args.seed,
                    jobs=jobs,
                    progress=ticker(bar),
                    events=events,
                )
            except PrecisionError as exc:
                raise UsageError(str(exc)) from None
        else:
            result = run(
                scenario,
                reps=reps,
                seed=args.seed,
                jobs=jobs,
                progress=ticker(bar),
                events=events,
                split_companies=split,
            )
    finally:
        if bar is not None:
            bar.close()
    if log is not None:
        print(format_backlog(warm.reading, log.source, result.replications))
    print(format_result(result, args.overrides, args.lang))
    if log is not None:
        backlog, cleared = warm.backlog(), warm.cleared()
        print(format_backlog_kpis(result, backlog, cleared, args.lang))
    if scenario.companies:
        print(format_companies(result, args.lang))
    if args.precision:
        print(format_precision(precision, args.lang))
    monthly = bool(args.monthly or scenario.measures)
    if monthly:
        print(format_monthly(result, args.lang))
    replacing = out.is_dir() and any(out.iterdir())
    with staged(out) as folder:  # the folder appears complete, or stays as it was
        *tables, manifest = write_run(
            result,
            folder,
            fmt=args.format,
            events_format=args.events_format,
            overrides=args.overrides,
            jobs=jobs,
            monthly=monthly,
            warm_start={
                "log": args.warm_start,
                "reading": warm.reading,
                "backlog": backlog,
                "cleared": cleared,
            }
            if log is not None
            else None,
        )
    again = " (replacing the earlier results there)" if replacing else ""
    print(f"\nwrote {', '.join(p.name for p in tables)} and {manifest.name} to {out}{again}")
    return 0
