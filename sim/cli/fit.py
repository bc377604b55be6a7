"""``fit LOG --base SCENARIO``: estimate a scenario's parameters from an event log and write them
as an overlay of the base scenario, with a fit report (``sim.evidence``, ``sim.outputs.fit_report``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sim.cli.common import add_debug, add_force, output_folder, plural
from sim.evidence.log_reading import parse_mapping, read_log
from sim.outputs.publish import staged
from sim.scenario import load_scenario


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "fit", help="fit a scenario overlay (durations, efforts, shares, rework, arrivals) from an event log"
    )
    p.add_argument("log", help="event log: .csv, .parquet or .xes (optionally .gz), process-mining columns")
    p.add_argument("--base", required=True, help="the scenario the overlay extends (its stages and segments)")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="the log's column for a standard one: case, activity, lifecycle, timestamp, resource, "
        "segment, replication, attempt (e.g. --map case=application_no); repeatable",
    )
    p.add_argument("--out", type=Path, help="output folder (default results/NAME-fitted)")
    add_force(p)
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    from sim.evidence.estimates import fit_log  # scipy.stats and the figures: only for this verb
    from sim.outputs.fit_report import write_fit

    mapping = parse_mapping(args.map)
    log = read_log(args.log, mapping)  # a file that is not a log fails before the scenario loads
    base = load_scenario(args.base)
    result = fit_log(log, base)
    out = output_folder(args.out or Path("results") / f"{base.name}-fitted", ("fit", base.name), args.force)
    extends = os.path.relpath(Path(args.base).resolve(), out.resolve())  # as the overlay's folder sees it
    with staged(out) as folder:
        write_fit(result, folder, extends=extends, base_file=args.base)
    fitted = load_scenario(out / "fitted.yaml")  # the overlay must load: a failure here is a bug
    events = result.log.events
    print(
        f"{log.source}: {log.rows_read} rows, {len(events)} events of {events['case'].nunique()} cases used"
    )
    for what, count in result.skipped.items():
        print(f"  skipped {count}: {what}")
    for note in result.notes:
        print(f"  {note}")
    table = result.parameters
    print(f"fitted {plural(len(table), 'parameter')} (estimate [95% interval], base, unit):")
    for r in table.itertuples(index=False):
        interval = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        print(f"  {r.key}: {r.estimate:.4g} {interval}, base {r.base:.4g} {r.unit} (n={r.n})")
    for line in result.agreement():
        print(line)
    unidentified = result.stages[~result.stages["fitted"].str.startswith(("duration", "effort"))]
    print(f"{plural(len(unidentified), 'stage')} not fitted (why: report.md)")
    print(f"wrote {out}/fitted.yaml ({fitted.name}, digest {fitted.digest()[:12]}), report.md and figures")
    return 0
