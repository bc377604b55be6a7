"""``sweep SWEEP.yaml``: run every point, print a summary, write the tables, figures and manifest.

Exit status 0 when every point ran, 1 when some failed (named on stderr), 2 on a bad sweep file
or an unreachable cluster; Ctrl-C says what was kept and how to resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from sim.cli.common import (
    Interrupted,
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
from sim.experiments.sweep import SweepOutcome, SweepSpec, load_sweep, point_files, run_sweep, summarise_sweep
from sim.kpi_catalogue import label, show
from sim.outputs.tables import FORMATS


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser("sweep", help="run a sweep: a base scenario over a grid or a list of points")
    p.add_argument("sweep", help="sweep YAML file (see docs/sweeps.md)")
    add_executor(p, "the points")
    p.add_argument("--resume", action="store_true", help="skip the points already written to the folder")
    p.add_argument("--out", type=Path, help="output folder (default: results/SWEEP_NAME)")
    p.add_argument("--reps", type=positive_int, help="replications per point (default: the sweep's)")
    p.add_argument("--seed", type=seed, help="random seed (default: the sweep's)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    add_force(p)
    add_debug(p)


def _saved(spec: SweepSpec, out: Path) -> int:
    return sum(1 for p in spec.points if point_files(out, p)["kpis"].exists())


def command(args: argparse.Namespace) -> int:
    from sim.outputs.sweep_figures import write_sweep_figures  # matplotlib: only when a sweep runs

    spec = load_sweep(args.sweep, reps=args.reps, seed=args.seed)
    out = output_folder(
        args.out or Path("results") / spec.name, ("sweep", spec.name), args.force, in_place=True
    )
    try:
        executor = make_executor(jobs=args.jobs, scheduler=args.scheduler)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"sweep {spec.name}: {len(spec.points)} points x {spec.replications} replications, "
        f"seed {spec.seed}, {executor_place(executor.describe())}; base {spec.base}",
        flush=True,
    )
    bar = progress_bar(len(spec.points), spec.name, unit="point")
    failed_so_far = [0]

    def tick(done: int, failures: int) -> None:
        if bar is None:
            return
        if failures != failed_so_far[0]:
            failed_so_far[0] = failures
            bar.set_postfix(failed=failures)
        bar.update(done - bar.n)

    try:
        if bar is not None and args.resume:
            bar.update(_saved(spec, out))
        outcome = run_sweep(
            spec,
            out=out,
            resume=args.resume,
            progress=tick,
            fmt=args.format,
            executor=executor,
            command=sys.argv,
            figures=write_sweep_figures,
        )
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        raise Interrupted(
            f"{_saved(spec, out)} of {len(spec.points)} points are saved in {out}; "
            "run again with --resume to compute the others"
        ) from None
    finally:
        executor.close()
    if bar is not None:
        bar.close()
    return _report(outcome, out)


def sweep_summary_table(summary: pd.DataFrame, kpi: str, labels: dict[str, str]) -> pd.DataFrame:
    """A sweep's summary for reading: the parameters under the sweep file's ``labels`` (their key
    paths otherwise), the KPI as every output shows it (``kpi_catalogue.show``)."""
    parameters = [
        c
        for c in summary.columns
        if c not in ("point", "replications", "segment") and not (c == kpi or c.startswith(f"{kpi}_"))
    ]
    table = summary[[*parameters, *(["segment"] if "segment" in summary else [])]].rename(columns=labels)
    lows = summary.get(f"{kpi}_lo", pd.Series(None, index=summary.index))
    highs = summary.get(f"{kpi}_hi", pd.Series(None, index=summary.index))
    table[label(kpi)] = [
        show(kpi, v, h, lo, hi) for v, h, lo, hi in zip(summary[kpi], summary[f"{kpi}_hw"], lows, highs)
    ]
    return table


def _report(outcome: SweepOutcome, out: Path) -> int:
    spec = outcome.spec
    print(
        f"{outcome.computed} points run ({len(outcome.failures)} failed), {outcome.skipped} already done "
        f"(--resume), in {outcome.seconds:.1f} s"
    )
    if len(outcome.table) and spec.figures and spec.figures[0]["kpi"] in outcome.table.columns:
        first = spec.figures[0]
        summary = summarise_sweep(outcome.table, first["kpi"], first.get("segment"))
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(
                f"\n{label(first['kpi'])} ({first.get('segment') or 'per segment'}), mean over replications "
                "(95% interval):"
            )
            print(sweep_summary_table(summary, first["kpi"], spec.labels).to_string(index=False))
    written = [*outcome.files, "manifest.json", "points/"]
    print(f"\nwrote {', '.join(written)} to {out}")
    if outcome.failures:
        labels = {p.id: p.label for p in spec.points}
        names = "; ".join(f"{k} ({labels[k]}): {v}" for k, v in outcome.failures.items())
        print(f"error: {len(outcome.failures)} of {len(spec.points)} points failed: {names}", file=sys.stderr)
        return 1
    return 0
