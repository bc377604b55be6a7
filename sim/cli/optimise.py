"""``optimise STAFFING.yaml``: find the cheapest staffing that meets the targets, print it with its
KPIs and the cheaper neighbours that fail, write the tables, the figure and the manifest.

Exit status 0 when a staffing was found, 1 when none in the bounds meets the targets (the most
generous one is shown with its shortfall), 2 on a bad staffing file; Ctrl-C says what was kept and
how to resume (the replications of each staffing are written as they are computed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import Interrupted, add_debug, add_executor, add_force, output_folder, plural, seed
from sim.experiments.executors import ExecutorError, make_executor
from sim.experiments.staffing import (
    RULED_OUT,
    UNDECIDED,
    Candidate,
    Check,
    StaffingResult,
    load_staffing,
    of_finished_cases,
    search,
    test_level,
)
from sim.kpi_catalogue import is_share
from sim.outputs.tables import FORMATS


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser(
        "optimise", help="find the cheapest staffing that meets targets, with stated confidence"
    )
    p.add_argument("staffing", help="staffing YAML file (see docs/staffing.md)")
    add_executor(p, "the replications")
    p.add_argument("--resume", action="store_true", help="reuse the replications already in the folder")
    p.add_argument("--out", type=Path, help="output folder (default: results/NAME)")
    p.add_argument("--seed", type=seed, help="random seed (default: the file's)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    add_force(p)
    add_debug(p)


def _value(check: Check) -> str:
    """``67.2% (bounds 61.9 / 72.5)``: the mean and its lower and upper one-sided bounds."""
    if check.mean != check.mean:  # NaN: no finished case in some replication
        return "no finished case in some replication"
    if is_share(check.target.kpi):
        return f"{100 * check.mean:.1f}% (bounds {100 * check.low:.1f} / {100 * check.high:.1f})"
    return f"{check.mean:.2f} (bounds {check.low:.2f} / {check.high:.2f})"


def _short(check: Check) -> str:
    """How far a missed target is from its bound, in its own unit."""
    gap = -check.margin
    return f"short by {100 * gap:.1f} points" if is_share(check.target.kpi) else f"short by {gap:.2f}"


def _print_candidate(result: StaffingResult, c: Candidate, indent: str = "  ") -> None:
    for check in c.checks:
        extra = ""
        if check.verdict == "missed" and check.open_cases and of_finished_cases(check.target.kpi):
            extra = f", {check.open_cases} cases still open at the end (the KPI leaves them out)"
        elif check.verdict == "missed" and check.mean == check.mean:
            extra = f", {_short(check)}"
        print(f"{indent}{check.target.describe()}: {_value(check)}, n={check.n}: {check.verdict}{extra}")


def command(args: argparse.Namespace) -> int:
    from sim.outputs.staffing_figures import write_staffing  # matplotlib: only when it runs

    spec = load_staffing(args.staffing, seed=args.seed)
    out = output_folder(
        args.out or Path("results") / spec.name, ("optimise", spec.name), args.force, in_place=True
    )
    try:
        executor = make_executor(jobs=args.jobs, scheduler=args.scheduler)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    plan = spec.replications
    level = test_level(spec)
    print(
        f"optimise {spec.name}: {plural(len(spec.pools), 'pool')} "
        f"({', '.join(spec.pools)}), {plural(len(spec.targets), 'target')}; "
        f"base {spec.base}, seed {spec.seed}\n"
        f"confidence {spec.confidence:.0%} per staffing (that all its verdicts are right): each target "
        f"judged by a one-sided bound at {level:.4%}, over {plan.start} to {plan.max} replications "
        f"(+{plan.step} a look); bounds below are those one-sided bounds",
        flush=True,
    )

    def progress(what: str) -> None:  # on a terminal and in a log alike: a search takes minutes
        print(f"  simulating {what} ...", file=sys.stderr, flush=True)

    try:
        result = search(spec, out=out, resume=args.resume, executor=executor, progress=progress)
    except KeyboardInterrupt:
        raise Interrupted(
            f"the replications computed so far are in {out / 'staffings'}; "
            "run again with --resume to reuse them"
        ) from None
    finally:
        executor.close()
    files = write_staffing(result, out, fmt=args.format, command=sys.argv)
    return _report(result, out, files)


def _report(result: StaffingResult, out: Path, files: list[str]) -> int:
    spec = result.spec
    simulated = [c for c in result.candidates if c.verdict != RULED_OUT]
    ruled = len(result.candidates) - len(simulated)
    print(
        f"\n{plural(len(simulated), 'staffing')} simulated, {ruled} ruled out below a pool's floor; "
        f"{result.computed} replications run, {result.reused} reused, in {result.seconds:.1f} s"
    )
    if result.floors:
        floors = ", ".join(
            f"{p} {n}"
            + (" (not confirmed: one fewer is undecided)" if result.below_floors.get(p) == UNDECIDED else "")
            for p, n in result.floors.items()
        )
        print(f"fewest members of each pool with the others at their maximum: {floors}")
    code = 0
    if result.chosen is None:
        top = max(simulated, key=lambda c: c.cost)
        shown = spec.describe(top.staffing)
        if top.verdict == UNDECIDED:
            n = top.replications
            print(f"\nthe most generous staffing, {shown}, is still undecided at {n} replications:")
            _print_candidate(result, top)
            print("raise `replications.max` in the staffing file to decide it")
        else:
            print(f"\nno staffing within the bounds meets every target; the most generous one, {shown}:")
            _print_candidate(result, top)
            if any(c.open_cases and of_finished_cases(c.target.kpi) for c in top.checks):
                print(
                    "cases are still open at the end of the run: lengthen horizon.drain_days, or a pool "
                    "is overloaded even at its maximum"
                )
            else:
                print(
                    "staff within these bounds cannot close the gap; a sweep (docs/sweeps.md) shows where "
                    "the KPI stops rising with staff, and a measure of the process may be what is missing"
                )
            if spec.description:
                print(f"the staffing file says: {' '.join(spec.description.split())}")
        code = 1
    else:
        c = result.chosen
        unsure = [x for x in simulated if x.cost < c.cost and x.verdict == UNDECIDED]
        unsure_floors = [p for p, v in result.below_floors.items() if v == UNDECIDED]
        meets = "confirmed to meet" if unsure or unsure_floors else "that meets"
        shown = spec.describe(c.staffing)
        print(f"\ncheapest staffing {meets} every target: {shown} (cost {c.cost:g})")
        print(
            f"  (each staffing's verdicts hold with {spec.confidence:.0%} confidence; that no cheaper "
            "staffing meets them rests on the verdicts of those simulated and, below the floors, on "
            "monotonicity)"
        )
        _print_candidate(result, c)
        pools = result.pools
        at = pools
        for pool, n in zip(spec.pools, c.staffing):
            at = at[at[pool] == n]
        at = at[at["replication"] < c.replications]
        if len(at):
            busy = at.groupby("pool", sort=False)[["utilisation", "wait_wd_mean"]].mean()
            shown = ", ".join(
                f"{p} {100 * r.utilisation:.0f}% busy, waits {r.wait_wd_mean:.2f} wd"
                for p, r in busy.iterrows()
                if p in spec.pools
            )
            print(f"  at this staffing: {shown}")
        if result.neighbours:
            print("one member fewer:")
            for nb in result.neighbours:
                print(f"  {spec.describe(nb.staffing)} (cost {nb.cost:g}): {nb.verdict}")
                _print_candidate(result, nb, indent="    ")
        if unsure or unsure_floors:
            names = "; ".join(spec.describe(x.staffing) for x in unsure)
            print(
                f"not decided at {spec.replications.max} replications: "
                + (f"cheaper staffings {names}" if unsure else "")
                + ("; " if unsure and unsure_floors else "")
                + (f"the floor of {', '.join(unsure_floors)}" if unsure_floors else "")
                + ". Raise replications.max to decide them: one may meet the targets for less"
            )
    print(f"\nwrote {', '.join(files)} to {out}")
    return code
