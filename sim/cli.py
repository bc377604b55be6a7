"""The command line: ``python run_sim.py VERB ...`` (also ``python -m sim`` and ``run-sim``).

Exit status: 0 done; 1 a check found drift; 2 bad input (usage, scenario), reported as one line on
stderr without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import pandas as pd

from sim.calendar import CalendarError
from sim.experiment import RunResult, default_jobs, run
from sim.model import calendar_for
from sim.output import FORMATS, write_manifest, write_table
from sim.scenario import ScenarioError, load_scenario


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as every other input error
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, found {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed of 0 or more, found {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="run_sim.py", description="Simulate the electricity-connection process.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    p = verbs.add_parser("run", help="run a scenario and print its KPIs per segment")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--reps", type=_positive_int, help="replications (default: the scenario's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="replace an existing scenario key, e.g. resources.inspector.capacity=4",
    )
    p.add_argument("--out", type=Path, help="output folder (default: results/SCENARIO_NAME)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--jobs", type=_positive_int, help="worker processes (default: all cores)")
    p.add_argument("--events", action="store_true", help="also write the stage event log (events)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = verbs.add_parser("compare", help="compare scenarios with a reference on common random numbers")
    p.add_argument("reference", help="reference scenario YAML file (e.g. the baseline)")
    p.add_argument("others", nargs="+", metavar="OTHER", help="scenarios to compare with it")
    p.add_argument("--reps", type=_positive_int, help="replications (default: the reference's)")
    p.add_argument("--seed", type=_seed, help="common random seed (default: the reference's)")
    p.add_argument("--out", type=Path, help="output folder (default: results/compare-REFERENCE)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--jobs", type=_positive_int, help="worker processes (default: all cores)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the figures")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = verbs.add_parser("validate", help="load and check scenario files; nothing runs")
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return {"run": _cmd_run, "compare": _cmd_compare, "validate": _cmd_validate}[args.verb](args)
    except (ScenarioError, CalendarError, UsageError) as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _progress(total: int, label: str):
    """A tqdm bar on a terminal; nothing when stderr is not a TTY."""
    if not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="rep", file=sys.stderr)
    return bar, bar.update


def _cmd_run(args) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    reps = args.reps or scenario.replications
    jobs = args.jobs or min(default_jobs(), reps)
    bar, tick = _progress(reps, scenario.name)
    try:
        result = run(scenario, reps=reps, seed=args.seed, jobs=jobs, progress=tick, events=args.events)
    finally:
        if bar is not None:
            bar.close()
    print(format_result(result))
    out = args.out or Path("results") / scenario.name
    written = [
        write_table(result.kpis, out, "kpis", args.format),
        write_table(result.cases, out, "cases", args.format),
        write_table(result.pools, out, "pools", args.format),
        write_table(result.materials, out, "materials", args.format),
    ]
    if result.events is not None:
        written.append(write_table(result.events, out, "events", args.format))
    manifest = write_manifest(
        out,
        {
            "scenario_file": scenario.source,
            "scenario_name": result.scenario.name,
            "scenario_digest": result.scenario.digest(),
            "seed": result.scenario.seed,
            "replications": result.replications,
            "overrides": args.overrides,
            "jobs": jobs,
            "files": [p.name for p in written],
            "scenario": result.scenario.to_dict(),
        },
    )
    print(f"\nwrote {', '.join(p.name for p in written)} and {manifest.name} to {out}")
    return 0


def _cmd_compare(args) -> int:
    import warnings

    from sim.compare import compare
    from sim.plots import CJK_HINT, FIGURES
    from sim.report import comparison_table, write_report

    reference = load_scenario(args.reference)
    others = [load_scenario(path) for path in args.others]
    reps = args.reps or reference.replications
    jobs = args.jobs or min(default_jobs(), reps)
    bar, tick = _progress(reps * (1 + len(others)), "compare")
    try:
        result = compare(reference, others, reps=reps, seed=args.seed, jobs=jobs, progress=tick)
    except ValueError as exc:  # e.g. two scenarios with the same name
        raise UsageError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 40):
        print(
            f"Compared with {result.reference}: seed {result.seed}, {result.replications} replications "
            "each, paired by replication; means ± 95% half-width, working days\n"
        )
        print(comparison_table(result).to_string(index=False))
    out = args.out or Path("results") / f"compare-{reference.name}"
    out.mkdir(parents=True, exist_ok=True)
    written = [write_table(result.table, out, "comparison", args.format)]
    written.append(write_table(result.pools, out, "pools", args.format))
    kpis = pd.concat([r.kpis for r in result.runs.values()], ignore_index=True)
    written.append(write_table(kpis, out, "kpis", args.format))
    import matplotlib.pyplot as plt

    figures = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for key, make in FIGURES.items():
            fig = make(result, lang=args.lang)
            fig.savefig(out / f"{key}.png", dpi=120)
            plt.close(fig)
            figures[key] = f"{key}.png"
    if any(CJK_HINT in str(w.message) for w in caught):
        print(f"warning: {CJK_HINT}", file=sys.stderr)
    md, page = write_report(result, out, figures)
    manifest = write_manifest(
        out,
        {
            "reference": result.reference,
            "scenarios": {
                name: {"file": r.scenario.source, "digest": r.scenario.digest()}
                for name, r in result.runs.items()
            },
            "seed": result.seed,
            "replications": result.replications,
            "jobs": jobs,
            "files": [p.name for p in written] + list(figures.values()) + [md.name, page.name],
        },
    )
    print(
        f"\nwrote {', '.join(p.name for p in written)}, {len(figures)} figures, {md.name}, {page.name} "
        f"and {manifest.name} to {out}"
    )
    return 0


def _cmd_validate(args) -> int:
    for path in args.scenarios:
        scenario = load_scenario(path, args.overrides)
        calendar_for(scenario)  # a horizon beyond the published calendar fails here, not at run
        print(
            f"{path}: ok ({scenario.name}: {len(scenario.segments)} segments, "
            f"{len(scenario.stages)} stages, digest {scenario.digest()[:12]})"
        )
    return 0


def _fmt(value, hw=None, digits=1) -> str:
    if value is None or pd.isna(value):
        return "–"
    text = f"{value:.{digits}f}"
    if hw is not None and not pd.isna(hw):
        text += f" ±{hw:.{digits}f}"
    return text


def format_result(result: RunResult) -> str:
    """The per-segment KPI table and the pool table, as printed by ``run``."""
    s = result.summary()
    sc = result.scenario
    rows = []
    for _, r in s.iterrows():
        target = "–" if pd.isna(r["target_days"]) else f"{r['target_measure']} ≤ {r['target_days']:g}"
        rows.append(
            {
                "segment": r["segment"],
                "cases": _fmt(r["n_cases"], digits=0),
                "open": _fmt(r["n_open"], digits=0),
                "handling mean/p50/p95/max": "/".join(
                    _fmt(r[f"handling_wd_{k}"]) for k in ("mean", "p50", "p95", "max")
                ),
                "full process mean/p50/p95/max": "/".join(
                    _fmt(r[f"full_process_wd_{k}"]) for k in ("mean", "p50", "p95", "max")
                ),
                "elapsed mean/p50/p95/max": "/".join(
                    _fmt(r[f"elapsed_wd_{k}"]) for k in ("mean", "p50", "p95", "max")
                ),
                "target": target,
                "on target %": _fmt(100 * r["on_target_share"], 100 * r["on_target_share_hw"], 0),
                "procedures": _fmt(r["procedures_mean"]),
            }
        )
    table = pd.DataFrame(rows).to_string(index=False)
    pools = result.pool_summary()
    pool_rows = pd.DataFrame(
        {
            "pool": pools["pool"],
            "slots": [_fmt(c, digits=0) if c != float("inf") else "unlimited" for c in pools["capacity"]],
            "utilisation %": [
                _fmt(100 * u, 100 * h, 0) for u, h in zip(pools["utilisation"], pools["utilisation_hw"])
            ],
            "mean wait (wd)": [
                _fmt(w, h, 2) for w, h in zip(pools["wait_wd_mean"], pools["wait_wd_mean_hw"])
            ],
        }
    ).to_string(index=False)
    head = (
        f"{sc.name}: {sc.title}\n{result.replications} replications, seed {sc.seed}; times in working "
        "days (wd) over finished counted cases; mean over replications, ± 95% half-width"
    )
    return f"{head}\n\n{table}\n\n{pool_rows}"
