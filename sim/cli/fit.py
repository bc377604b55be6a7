"""``fit LOG --base SCENARIO``: estimate a scenario's parameters from an event log and write them
as an overlay of the base scenario, with a fit report (``sim.evidence``, ``sim.outputs.fit_report``).
``--round-trip`` checks the fit on a log whose truth is known (``sim.evidence.round_trip``): the
base's own simulated log, or with LOG the fitted scenario's."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sim.cli.common import UsageError, add_debug, add_force, output_folder, plural, positive_int, seed
from sim.evidence.log_reading import parse_mapping, read_log
from sim.outputs.publish import staged
from sim.scenario import load_scenario

ROUND_TRIP = ("reps", "seed", "check_seed", "jobs")
"""Options of the round trip only."""


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "fit", help="fit a scenario overlay (durations, efforts, shares, rework, arrivals) from an event log"
    )
    p.add_argument(
        "log", nargs="?", help="event log: .csv, .parquet or .xes (optionally .gz), process-mining columns"
    )
    p.add_argument("--base", required=True, help="the scenario the overlay extends (its stages and segments)")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="the log's column for a standard one: case, activity, lifecycle, timestamp, resource, "
        "segment, replication, attempt (e.g. --map case=application_no); repeatable",
    )
    p.add_argument(
        "--round-trip",
        action="store_true",
        help="check the fit where the truth is known: simulate the base (with LOG: the fitted scenario) "
        "with its event log, fit it, rerun the fitted scenario and compare parameters, KPIs and "
        "elapsed times (round-trip.md)",
    )
    p.add_argument("--reps", type=positive_int, help="replications of the round trip (default 5)")
    p.add_argument("--seed", type=seed, help="seed of the round trip's simulated log (default 7)")
    p.add_argument("--check-seed", type=seed, help="seed of the round trip's reruns (default: --seed + 1)")
    p.add_argument("--jobs", type=positive_int, help="worker processes of the round trip (default 1)")
    p.add_argument("--out", type=Path, help="output folder (default results/NAME-fitted, or NAME-round-trip)")
    add_force(p)
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    from sim.evidence.estimates import SMALL_SAMPLE, fit_log  # scipy.stats and figures: only for this verb
    from sim.evidence.round_trip import RoundTrip, round_trip
    from sim.outputs.fit_report import round_trip_summary, write_fit, write_round_trip

    if args.log is None and not args.round_trip:
        raise UsageError("fit: give the event log to fit (LOG), or --round-trip to check the fit on the base")
    given = [f"--{n.replace('_', '-')}" for n in ROUND_TRIP if getattr(args, n) is not None]
    if given and not args.round_trip:
        verb, it = ("applies", "it") if len(given) == 1 else ("apply", "them")
        raise UsageError(f"fit: {', '.join(given)} {verb} to --round-trip only; add it, or leave {it} out")
    args.reps, args.seed, args.jobs = args.reps or 5, 7 if args.seed is None else args.seed, args.jobs or 1
    seeds = (args.seed, args.seed + 1 if args.check_seed is None else args.check_seed)
    if args.log is None:
        return _round_trip_of_base(args, seeds)
    mapping = parse_mapping(args.map)
    base = load_scenario(args.base)  # its stages: other activities are skipped as the log is read
    log = read_log(args.log, mapping, stages=list(base.stages), scenario=base.name)
    result = fit_log(log, base)
    out = output_folder(args.out or Path("results") / f"{base.name}-fitted", ("fit", base.name), args.force)
    extends = os.path.relpath(Path(args.base).resolve(), out.resolve())  # as the overlay's folder sees it
    trip: RoundTrip | None = None
    with staged(out) as folder:
        write_fit(result, folder, extends=extends, base_file=args.base)
        if args.round_trip:  # the staged folder is beside ``out``: the overlay's ``extends`` holds
            trip = round_trip(folder / "fitted.yaml", args.reps, seeds[0], seeds[1], jobs=args.jobs)
            write_round_trip(trip, folder, f"{base.name}-fitted", args.reps, seeds)
    fitted = load_scenario(out / "fitted.yaml")  # the overlay must load: a failure here is a bug
    events = result.used
    skipped = sum(result.skipped.values())
    print(
        f"{log.source}: {log.rows_read} rows: {len(events)} events of {events['case'].nunique()} cases "
        f"used, {skipped} rows skipped"
    )
    for what, count in result.skipped.items():
        print(f"  skipped {count}: {what}")
    for what, count in result.untimed.items():
        print(f"  not timed {count}: {what}")
    for note in result.notes:
        print(f"  {note}")
    table = result.parameters
    print(f"fitted {plural(len(table), 'parameter')} (estimate [95% interval], base, unit):")
    for r in table.itertuples(index=False):
        interval = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        family = f", {r.family}, KS={r.ks:.3f}" if r.kind in ("duration", "effort") else ""
        small = f", small sample (< {SMALL_SAMPLE})" if r.n < SMALL_SAMPLE else ""
        print(f"  {r.key}: {r.estimate:.4g} {interval}, base {r.base:.4g} {r.unit} (n={r.n}{family}{small})")
    for line in result.agreement():
        print(line)
    unidentified = result.stages[~result.stages["fitted"].str.startswith(("duration", "effort"))]
    print(f"why each of the {plural(len(unidentified), 'stage')} is not fitted: report.md")
    if trip is not None:
        print(f"round trip of {fitted.name} ({args.reps} replications, seeds {seeds[0]} and {seeds[1]}):")
        for line in round_trip_summary(trip, args.reps):
            print(f"  {line}")
    trip_files = ", round-trip.md and its tables" if trip is not None else ""
    print(
        f"wrote {out}/fitted.yaml ({fitted.name}, digest {fitted.digest()[:12]}), report.md, figures"
        f"{trip_files}"
    )
    return 0


def _round_trip_of_base(args: argparse.Namespace, seeds: tuple[int, int]) -> int:
    """``fit --base SCENARIO --round-trip``: the round trip of the base scenario alone."""
    from sim.evidence.round_trip import round_trip
    from sim.outputs.fit_report import round_trip_summary, write_round_trip

    base = load_scenario(args.base)
    default = Path("results") / f"{base.name}-round-trip"
    out = output_folder(args.out or default, ("fit --round-trip", base.name), args.force)
    trip = round_trip(args.base, args.reps, seeds[0], seeds[1], jobs=args.jobs)
    with staged(out) as folder:
        write_round_trip(trip, folder, base.name, args.reps, seeds, base_file=args.base)
    print(f"round trip of {base.name} ({args.reps} replications, seeds {seeds[0]} and {seeds[1]}):")
    for line in round_trip_summary(trip, args.reps):
        print(f"  {line}")
    print(f"wrote {out}/round-trip.md and its tables")
    return 0
