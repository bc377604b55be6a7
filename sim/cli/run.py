"""``run SCENARIO``: run the replications, print the KPIs per segment against the targets and the
pools, write the run folder (``sim.outputs.folders.write_run``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from sim.cli.common import (
    UsageError,
    add_debug,
    add_force,
    add_set,
    fmt,
    output_folder,
    plural,
    positive_int,
    progress_bar,
    seed,
    ticker,
)
from sim.experiments.monthly import company_shares, first_met, headline_segments
from sim.experiments.replications import RunResult, default_jobs, run, run_to_precision
from sim.experiments.stats import PrecisionError
from sim.experiments.targets import verdict_table
from sim.kpi_catalogue import MEASURES, STATISTICS, SUMMARY_MEASURES, heading, short_label, show
from sim.outputs.event_log import EVENT_FORMATS
from sim.outputs.folders import write_run
from sim.outputs.publish import staged
from sim.outputs.tables import FORMATS
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario


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
    add_force(p)
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
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
        if args.precision:
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
    print(format_result(result, args.overrides))
    if scenario.companies:
        print(format_companies(result))
    if args.precision:
        print(format_precision(precision))
    monthly = bool(args.monthly or scenario.measures)
    if monthly:
        print(format_monthly(result))
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
        )
    again = " (replacing the earlier results there)" if replacing else ""
    print(f"\nwrote {', '.join(p.name for p in tables)} and {manifest.name} to {out}{again}")
    return 0


def _hours_per_day(sc: Scenario, company: str | None, pool: str) -> float:
    """A pool's hours per day, as a company staffs it where it gives its own."""
    own = sc.companies[company].resources.get(pool) if company in sc.companies else None
    return (
        own.hours_per_day
        if own is not None and own.hours_per_day is not None
        else sc.resources[pool].hours_per_day
    )


def format_companies(result: RunResult) -> str:
    """Per supply company: its region, cases and the share of each headline segment's cases
    within the headline target (%, 95% interval)."""
    shares = company_shares(result.company_summary(), result.scenario)
    rows = shares[["company", "region"]].assign(cases=[fmt(n, digits=0) for n in shares["n_cases"]])
    for segment in headline_segments(result.scenario):
        lows, highs = shares[f"{segment}_lo"], shares[f"{segment}_hi"]
        cells = [show("on_target_share", v, lo=a, hi=b) for v, a, b in zip(shares[segment], lows, highs)]
        rows[f"{segment} ≤ target"] = cells
    return "\nper supply company (its cases only):\n" + rows.to_string(index=False)


def format_monthly(result: RunResult) -> str:
    """Per month of application, the share of each headline segment's cases within its target
    (% with its 95% interval), and the month from which it is met (95%, whole interval)."""
    monthly = result.monthly()
    shown = [s for s in headline_segments(result.scenario) if s in set(monthly["segment"])]
    wide = pd.DataFrame({"month": sorted(monthly["month"].unique())})
    for segment in shown:
        rows = monthly[monthly["segment"] == segment].set_index("month")
        cells = [
            share_cell(rows.loc[m], "on_target_share") if m in rows.index else "–" for m in wide["month"]
        ]
        wide[f"{segment} ≤ target"] = cells
    met = first_met(monthly, 0.95)
    since = ", ".join(
        f"{r.segment} {r.first_met if isinstance(r.first_met, str) else 'not met for good'}"
        for r in met.itertuples()
        if r.segment in shown
    )
    caveat = (
        " (one replication: no month has an interval, so none can count as met)"
        if result.replications < 2
        else " (a month without cases, or with one replication's value only, breaks the run: "
        "RunResult.monthly(every='quarter') reads segments with few cases better)"
    )
    return (
        "\nper month of application: share of cases within the headline target in force "
        "(%, 95% interval); monthly table and trajectory.png in the folder\n"
        + wide.to_string(index=False)
        + f"\nfirst month from which 95% is met for good (whole interval): {since}{caveat}"
    )


def format_precision(report: pd.DataFrame) -> str:
    """The report of ``run --precision``: per segment and KPI, the half-width reached and asked for."""
    rows = report.assign(
        mean=report["mean"].map(lambda v: fmt(v, digits=3)),
        half_width=report["half_width"].map(lambda v: fmt(v, digits=3)),
        requested=report["requested"].map(lambda v: fmt(v, digits=3)),
        met=report["met"].map({True: "yes", False: "NO"}),
    )
    return "\nprecision (95% half-width) after the sequential procedure:\n" + rows.to_string(index=False)


def share_cell(row: pd.Series, column: str) -> str:
    """A share of a summary row with its bounded 95% interval (``stats.share_interval``)."""
    return show(column, row[column], lo=row[f"{column}_lo"], hi=row[f"{column}_hi"])


def _stats(row: pd.Series, measure: str) -> str:
    return "/".join(fmt(row[f"{measure}_wd_{k}"]) for k in STATISTICS)


STATISTICS_HEADING = "/".join(s.short for s in STATISTICS.values())  # mean/p50/p95/max


def format_result(result: RunResult, overrides: list[str] | None = None) -> str:
    """The per-segment KPI table and the pool table, as printed by ``run``."""
    s = result.summary()
    sc = result.scenario
    rows = []
    for _, r in s.iterrows():
        target = "–" if pd.isna(r["target_days"]) else f"{r['target_measure']} ≤ {r['target_days']:g}"
        rows.append(
            {
                short_label("segment"): r["segment"],
                heading("n_cases"): fmt(r["n_cases"], digits=0),
                heading("n_open"): fmt(r["n_open"], digits=0),
                **{f"{MEASURES[m].short} {STATISTICS_HEADING}": _stats(r, m) for m in SUMMARY_MEASURES},
                short_label("target_days"): target,
                heading("on_target_share"): share_cell(r, "on_target_share"),
                heading("procedures_mean"): fmt(r["procedures_mean"]),
            }
        )
    table = pd.DataFrame(rows).to_string(index=False)
    pools = result.pool_summary()
    companies = pools["company"] if "company" in pools else [None] * len(pools)
    pool_rows = pd.DataFrame(
        {
            **({short_label("company"): pools["company"]} if "company" in pools else {}),
            short_label("pool"): pools["pool"],
            heading("capacity"): [
                fmt(c, digits=0) if c != float("inf") else "unlimited" for c in pools["capacity"]
            ],
            heading("hours_per_day"): [
                fmt(_hours_per_day(sc, c, p), digits=1) for c, p in zip(companies, pools["pool"])
            ],
            "dispatch": [sc.resources[p].dispatch for p in pools["pool"]],
            heading("utilisation"): [share_cell(r, "utilisation") for _, r in pools.iterrows()],
            heading("wait_wd_mean"): [
                fmt(w, h, 2) for w, h in zip(pools["wait_wd_mean"], pools["wait_wd_mean_hw"])
            ],
        }
    ).to_string(index=False)
    targets = ""
    if len(result.targets):
        verdicts = verdict_table(result.target_summary()).drop(columns=["scenario"])
        targets = (
            "\n\ntargets: the statistic each target names, over replications (95% interval), and its "
            "verdict (met, missed, or undecided when the interval straddles the bound)\n"
            + verdicts.to_string(index=False)
        )
    spread = (
        "mean over replications, ± 95% half-width (shares: 95% interval)"
        if result.replications > 1
        else "one replication"
    )
    head = (
        f"{sc.name}: {sc.title}\n"
        + "".join(f"with --set {o}\n" for o in overrides or [])
        + f"{plural(result.replications, 'replication')}, seed {sc.seed}; times in working days (wd) "
        f"over finished counted cases; {spread}"
    )
    return f"{head}\n\n{table}{targets}\n\n{pool_rows}"
