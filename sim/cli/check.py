"""``check``: rerun the baseline and compare its KPIs with the recorded ones (exit 1 on drift);
``check --update``: rerecord them and say what changed.

The project's own baseline file and scenario are the defaults here, at the command line, found
from the source tree; the library (``sim.experiments.check``) always takes the file it is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import UsageError, add_debug, add_set, positive_int, progress_bar, ticker
from sim.experiments.baseline_file import Baseline
from sim.experiments.check import DEFAULT_REPLICATIONS, check_baseline, drifted, update_baseline
from sim.outputs.check_report import format_report, summary_line
from sim.scenario import display_path

ROOT = Path(__file__).resolve().parents[2]  # the source tree: sim/cli/check.py
DEFAULT_BASELINE = ROOT / "tests" / "regression" / "baseline_kpis.json"
DEFAULT_SCENARIO = ROOT / "scenarios" / "baseline.yaml"
DEFAULT_CALIBRATION = ROOT / "scenarios" / "calibration" / "2020.yaml"


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser("check", help="rerun the baseline and compare its KPIs with the recorded ones")
    p.add_argument(
        "--baseline", type=Path, help="baseline KPI file (default: tests/regression/baseline_kpis.json)"
    )
    p.add_argument("--update", action="store_true", help="rerun and rewrite the baseline file")
    p.add_argument("--scenario", help="scenario to run (default: the one the file records)")
    p.add_argument("--reps", type=positive_int, help="replications to record (only with --update)")
    add_set(p, "try a change, e.g. stages.completion_lv.duration.mode=4 (not with --update)")
    p.add_argument("--jobs", type=positive_int, help="worker processes (default: all cores)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--changed", action="store_true", help="print the KPIs that changed (default: those that drifted)"
    )
    shown.add_argument("--all", action="store_true", help="print every KPI (default: those that drifted)")
    p.add_argument(
        "--calibration",
        nargs="?",
        const=str(DEFAULT_CALIBRATION),
        metavar="FILE",
        help="instead: the published figures a scenario must reproduce, published vs simulated "
        "(default file: scenarios/calibration/2020.yaml)",
    )
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    if args.calibration is not None:
        return _calibration(args)
    path = args.baseline or DEFAULT_BASELINE
    if args.update:
        return _update(args, path)
    if args.reps:
        raise UsageError("check: --reps chooses the replications of a new recording (use it with --update)")
    recorded = Baseline.read(path)
    bar = progress_bar(recorded.replications, "check")
    try:
        outcome = check_baseline(path, args.overrides, args.scenario, args.jobs, ticker(bar))
    finally:
        if bar is not None:
            bar.close()
    report = outcome.report
    print(
        f"check: {outcome.scenario.name} ({outcome.scenario.source}), {recorded.replications} replications, "
        f"seed {recorded.seed}, against {display_path(path)}"
        + (f"; with {', '.join(args.overrides)}" if args.overrides else "")
    )
    print(
        f"tolerance: t-test of each change against its recorded 95% interval, family-wise level "
        f"{report.attrs['alpha']:g} over the {report.attrs['tested']} KPIs that vary between replications "
        "(Bonferroni); the others must stay exactly as recorded\n"
    )
    rows = "all" if args.all else "changed" if args.changed else "drifted"
    bad = drifted(report)
    if rows != "drifted" or not bad.empty:
        print(format_report(report, rows))
    for note in outcome.notes:
        print(f"note: {note}")
    print(f"\n{summary_line(report)}" + ("" if args.all else "; --all prints every KPI"))
    if not bad.empty:
        names = ", ".join(f"{g}.{k}" for g, k in zip(bad["group"], bad["kpi"]))
        print(f"DRIFT in {len(bad)} KPI(s): {names}")
        return 1
    print("ok: no KPI drifted")
    return 0


def _calibration(args: argparse.Namespace) -> int:
    from sim.experiments.calibration import DIFFERS, as_text, calibrate, load_calibration

    if args.update or args.overrides or args.reps or args.scenario:
        raise UsageError("check --calibration takes its scenario and replications from the calibration file")
    calibration = load_calibration(args.calibration)
    bar = progress_bar(calibration.replications, "calibration")
    try:
        rows, _ = calibrate(calibration, args.jobs, ticker(bar))
    finally:
        if bar is not None:
            bar.close()
    sc = calibration.scenario
    print(
        f"calibration: {calibration.source} against {sc.name} ({sc.source}), "
        f"{calibration.replications} replications, seed {sc.seed}; simulated: mean ± 95% half-width; "
        "agrees / differs when the whole interval is within / outside the published figure\n"
    )
    print(as_text(rows) if len(rows) else "(no published figure)")
    for item in calibration.unpublished:
        print(f"not published: {item}")
    differs = rows[rows["verdict"] == DIFFERS] if len(rows) else rows
    known = differs[differs["known"] != ""] if len(differs) else differs
    unexplained = len(differs) - len(known)
    if unexplained:
        print(
            f"\n{unexplained} of {len(rows)} figures differ"
            + (f" ({len(known)} more known)" if len(known) else "")
        )
        return 1
    if len(known):
        print(f"\nno published figure differs but the {len(known)} the file explains (`known:`)")
        return 0
    print("\nno published figure differs")
    return 0


def _update(args: argparse.Namespace, path: Path) -> int:
    if args.overrides:
        raise UsageError("check: --update records the scenario as it is; --set is for trying a change")
    old = Baseline.read(path) if path.exists() else None
    scenario = args.scenario or (None if old else DEFAULT_SCENARIO)
    reps = args.reps or (old.replications if old else DEFAULT_REPLICATIONS)
    bar = progress_bar(reps, "check --update")
    try:
        new, old, report = update_baseline(path, scenario, args.reps, args.jobs, ticker(bar))
    finally:
        if bar is not None:
            bar.close()
    print(
        f"recorded {len(new.kpis)} KPIs of {new.scenario_name} ({new.replications} replications, "
        f"seed {new.seed}, digest {new.scenario_digest[:12]}) in {display_path(path)}"
    )
    if old is None or report is None:
        return 0
    changes = [
        f"{label} {before} -> {after}"
        for label, before, after in (
            ("scenario digest", old.scenario_digest[:12], new.scenario_digest[:12]),
            ("seed", old.seed, new.seed),
            ("replications", old.replications, new.replications),
        )
        if before != after
    ]
    if changes:
        print("changed: " + "; ".join(changes))
    changed = report[report["verdict"] != "same"]
    if changed.empty:
        print("no KPI changed" + ("" if changes else "; the file is left as it was"))
    else:
        print(f"{len(changed)} KPI(s) changed ({summary_line(report)}):")
        print(format_report(report, "changed"))
    return 0
