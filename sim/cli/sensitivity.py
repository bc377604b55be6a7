"""``sensitivity FILE.yaml``: screen the uncertain inputs of a scenario (Morris, or Sobol indices),
print the inputs ranked per KPI, write the indices, the design, the figures, ``report.md`` and the
manifest (the design points themselves in ``runs/``, a sweep folder).

Exit status 0 when every design point ran, 1 when some failed (named on stderr; no indices), 2 on
a bad sensitivity file or an unreachable cluster; Ctrl-C says what was kept and how to resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from sim.cli.common import (
    add_debug,
    add_executor,
    add_force,
    executor_place,
    output_folder,
    positive_int,
    progress_bar,
    seed,
)
from sim.experiments.executors import ExecutorError, make_executor
from sim.experiments.sensitivity import SensitivityOutcome, design, load_sensitivity, run_sensitivity
from sim.experiments.sweep import point_files
from sim.kpi_catalogue import is_share, label
from sim.outputs.tables import FORMATS


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "sensitivity", help="rank the uncertain inputs of a scenario by their effect on KPIs (Morris, Sobol)"
    )
    p.add_argument("file", help="sensitivity YAML file (see docs/sensitivity.md)")
    add_executor(p, "the design points")
    p.add_argument(
        "--resume", action="store_true", help="skip the design points already written to the folder"
    )
    p.add_argument("--out", type=Path, help="output folder (default: results/NAME)")
    p.add_argument("--reps", type=positive_int, help="replications per point (default: the file's)")
    p.add_argument("--seed", type=seed, help="random seed of the runs and the design (default: the file's)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    add_force(p)
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    spec = load_sensitivity(args.file, reps=args.reps, seed=args.seed)
    plan = design(spec)
    from sim.outputs.sensitivity_figures import write_sensitivity_outputs  # matplotlib: only when it runs

    points = plan.sweep.points
    out = output_folder(
        args.out or Path("results") / spec.name, ("sensitivity", spec.name), args.force, in_place=True
    )
    try:
        executor = make_executor(jobs=args.jobs, scheduler=args.scheduler)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"sensitivity {spec.name}: {spec.method}, {len(spec.inputs)} inputs, {len(plan.rows)} design rows "
        f"({len(points)} distinct points) x {spec.replications} replications, seed {spec.seed}, "
        f"{executor_place(executor.describe())}; base {spec.base}",
        flush=True,
    )
    bar = progress_bar(len(points), spec.name, unit="point")

    def saved() -> int:
        return sum(1 for p in points if point_files(out / "runs", p)["kpis"].exists())

    try:
        if bar is not None and args.resume:
            bar.update(saved())
        outcome = run_sensitivity(
            spec,
            out=out,
            resume=args.resume,
            progress=(lambda done, _failed: bar.update(done - bar.n)) if bar is not None else None,
            fmt=args.format,
            executor=executor,
            command=sys.argv,
            plan=plan,
            outputs=write_sensitivity_outputs,
        )
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print(
            f"interrupted: {saved()} of {len(points)} design points are saved in {out / 'runs'}; "
            "run again with --resume to compute the others",
            file=sys.stderr,
        )
        raise
    finally:
        executor.close()
    if bar is not None:
        bar.close()
    return _report(outcome, out)


def _report(outcome: SensitivityOutcome, out: Path) -> int:
    runs = outcome.runs
    print(
        f"{runs.computed} points run ({len(runs.failures)} failed), {runs.skipped} already done "
        f"(--resume), in {outcome.seconds:.1f} s"
    )
    if runs.failures:
        labels = {p.id: p.label for p in outcome.design.sweep.points}
        names = "; ".join(f"{k} ({labels[k]}): {v}" for k, v in runs.failures.items())
        print(f"error: {len(runs.failures)} design points failed, no indices: {names}", file=sys.stderr)
        return 1
    from sim.outputs.sensitivity_figures import constant, deciding

    morris = outcome.design.spec.method == "morris"
    columns = ["rank", "label", "mu_star", "mu_star_low", "mu_star_high", "mu", "sigma"]
    if not morris:
        columns = ["rank", "label", "ST", "ST_conf", "S1", "S1_conf"]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 60):
        for (kpi, segment), rows in outcome.indices.groupby(["kpi", "segment"], sort=False):
            # Morris' effects are in the KPI's units: a share's in percentage points
            share = is_share(kpi) and morris
            if (value := constant(outcome, str(kpi), str(segment))) is not None:
                shown = f"{100 * value:.1f}%" if is_share(kpi) else f"{value:g}"
                print(
                    f"\n{label(kpi)} ({segment}): {shown} at every design point; no input moves it "
                    "within its range, nothing ranked"
                )
                continue
            unit = " (effects in percentage points)" if share else ""
            print(f"\n{label(kpi)} ({segment}), inputs ranked{unit}:")
            shown_rows = rows[columns].copy()
            for c in columns[2:]:
                shown_rows[c] = [f"{100 * v:.1f}" if share else f"{v:.3g}" for v in shown_rows[c]]
            if morris:
                shown_rows.insert(
                    3, "95% interval", shown_rows.pop("mu_star_low") + "-" + shown_rows.pop("mu_star_high")
                )
            print(shown_rows.to_string(index=False))
            if rows[columns[2]].notna().all():
                print(deciding(rows, str(kpi), morris).replace("`", ""))
    written = [*outcome.files, "manifest.json", "runs/"]
    print(f"\nwrote {', '.join(written)} to {out}")
    return 0
