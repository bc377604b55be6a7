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

from sim.engine.calendar import CalendarError
from sim.engine.model import calendar_for
from sim.experiments.check import BaselineError
from sim.experiments.replications import RunResult, default_jobs, run
from sim.outputs.event_log import EVENT_FORMATS, write_events
from sim.outputs.tables import FORMATS, write_manifest, write_table
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


def _add_set(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def build_parser(prog: str = "run_sim.py") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Simulate the electricity-connection process.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    p = verbs.add_parser("run", help="run a scenario and print its KPIs per segment")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--reps", type=_positive_int, help="replications (default: the scenario's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    _add_set(p, "replace an existing scenario key, e.g. resources.inspector.capacity=4")
    p.add_argument("--out", type=Path, help="output folder (default: results/SCENARIO_NAME)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--jobs", type=_positive_int, help="worker processes (default: all cores)")
    p.add_argument("--events", action="store_true", help="also write the stage event log (events)")
    p.add_argument(
        "--precision",
        action="append",
        default=[],
        metavar="KPI=H",
        help="run replications until KPI's 95%% half-width is at most H (or H%% of its mean), "
        "e.g. on_target_share=0.02 or lv_smb.handling_wd_mean=5%%; --reps is then the first batch",
    )
    p.add_argument("--max-reps", type=_positive_int, default=100, help="cap for --precision (100)")
    p.add_argument(
        "--events-format",
        choices=EVENT_FORMATS,
        help="event log format (implies --events; default: the table format); xes is IEEE 1849 XES",
    )
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

    p = verbs.add_parser("check", help="rerun the baseline and compare its KPIs with the recorded ones")
    p.add_argument(
        "--baseline", type=Path, help="baseline KPI file (default: tests/regression/baseline_kpis.json)"
    )
    p.add_argument("--update", action="store_true", help="rerun and rewrite the baseline file")
    p.add_argument("--scenario", help="scenario to run (default: the one the file records)")
    p.add_argument("--reps", type=_positive_int, help="replications to record (only with --update)")
    _add_set(p, "try a change, e.g. stages.completion_lv.duration.mode=4 (not with --update)")
    p.add_argument("--jobs", type=_positive_int, help="worker processes (default: all cores)")
    p.add_argument("--changed", action="store_true", help="print only the KPIs that changed")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = verbs.add_parser("sweep", help="run a sweep: a base scenario over a grid or a list of points")
    p.add_argument("sweep", help="sweep YAML file (see docs/sweeps.md)")
    on = p.add_mutually_exclusive_group()
    on.add_argument("--jobs", type=_positive_int, help="worker processes (default: all cores)")
    on.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the points on a Dask cluster")
    p.add_argument("--resume", action="store_true", help="skip the points already written to the folder")
    p.add_argument("--out", type=Path, help="output folder (default: results/SWEEP_NAME)")
    p.add_argument("--reps", type=_positive_int, help="replications per point (default: the sweep's)")
    p.add_argument("--seed", type=_seed, help="random seed (default: the sweep's)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = verbs.add_parser("validate", help="load and check scenario files; nothing runs")
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    _add_set(p, "replace an existing scenario key before validating")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None, prog: str = "run_sim.py") -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser(prog).parse_args(argv)
        return {
            "run": _cmd_run,
            "compare": _cmd_compare,
            "validate": _cmd_validate,
            "sweep": _cmd_sweep,
            "check": _cmd_check,
        }[args.verb](args)
    except (ScenarioError, CalendarError, UsageError, BaselineError) as exc:
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
        events = args.events or args.events_format is not None
        if args.precision:
            result, precision = _run_to_precision(args, scenario, reps, jobs, tick, events)
        else:
            result = run(scenario, reps=reps, seed=args.seed, jobs=jobs, progress=tick, events=events)
    finally:
        if bar is not None:
            bar.close()
    print(format_result(result, args.overrides))
    if args.precision:
        print(_format_precision(precision))
    out = args.out or Path("results") / scenario.name
    written = [
        write_table(result.kpis, out, "kpis", args.format),
        write_table(result.cases, out, "cases", args.format),
        write_table(result.pools, out, "pools", args.format),
        write_table(result.materials, out, "materials", args.format),
    ]
    if result.events is not None:
        fmt = args.events_format or args.format
        written.append(write_events(result.events, out, fmt, cases=result.cases))
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

    from sim.experiments.compare import compare
    from sim.outputs.figures import CJK_HINT, FIGURES
    from sim.outputs.report import TABLE_LEGEND, comparison_table, target_changes, write_report

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
            f"Compared with {result.reference}: seed {result.seed}, "
            f"{_plural(result.replications, 'replication')} each, paired by replication.\n{TABLE_LEGEND}.\n"
        )
        print(comparison_table(result).to_string(index=False))
        for note in target_changes(result):
            print(f"note: {note}; its Δ on target compares different bounds")
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


def _run_to_precision(args, scenario, reps, jobs, tick, events):
    from sim.experiments.replications import run_to_precision
    from sim.experiments.stats import PrecisionError

    try:
        return run_to_precision(
            scenario,
            args.precision,
            reps=args.reps,
            max_reps=args.max_reps,
            seed=args.seed,
            jobs=jobs,
            progress=tick,
            events=events,
        )
    except PrecisionError as exc:
        raise UsageError(str(exc)) from None


def _format_precision(report) -> str:
    rows = report.assign(
        mean=report["mean"].map(lambda v: _fmt(v, digits=3)),
        half_width=report["half_width"].map(lambda v: _fmt(v, digits=3)),
        requested=report["requested"].map(lambda v: _fmt(v, digits=3)),
        met=report["met"].map({True: "yes", False: "NO"}),
    )
    return "\nprecision (95% half-width) after the sequential procedure:\n" + rows.to_string(index=False)


def _cmd_sweep(args) -> int:
    from sim.experiments.sweep import command

    def bar(total: int, label: str):
        if not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        return tqdm(total=total, desc=label, unit="point", file=sys.stderr)

    return command(args, bar)


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def format_result(result: RunResult, overrides: list[str] | None = None) -> str:
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
    spread = "mean over replications, ± 95% half-width" if result.replications > 1 else "one replication"
    head = (
        f"{sc.name}: {sc.title}\n"
        + "".join(f"with --set {o}\n" for o in overrides or [])
        + f"{_plural(result.replications, 'replication')}, seed {sc.seed}; times in working days (wd) "
        f"over finished counted cases; {spread}"
    )
    return f"{head}\n\n{table}\n\n{pool_rows}"


def _cmd_check(args) -> int:
    from sim.experiments import check

    path = args.baseline or check.DEFAULT_BASELINE
    if args.update:
        return _check_update(args, path)
    if args.reps:
        raise UsageError("check: --reps chooses the replications of a new recording (use it with --update)")
    recorded = check.Baseline.read(path)
    bar, tick = _progress(recorded.replications, "check")
    try:
        outcome = check.check_baseline(path, args.overrides, args.scenario, args.jobs, tick)
    finally:
        if bar is not None:
            bar.close()
    report = outcome.report
    print(
        f"check: {outcome.scenario.name} ({outcome.scenario.source}), {recorded.replications} replications, "
        f"seed {recorded.seed}, against {check.display_path(Path(path))}"
        + (f"; with {', '.join(args.overrides)}" if args.overrides else "")
    )
    print(
        f"tolerance: t-test of each change against its recorded 95% interval, family-wise level "
        f"{report.attrs['alpha']:g} over {report.attrs['tested']} KPIs (Bonferroni); 'exact' where the "
        "recorded half-width is 0\n"
    )
    print(check.format_report(report, only_changed=args.changed))
    for note in outcome.notes:
        print(f"note: {note}")
    bad = check.drifted(report)
    print(f"\n{check.summary_line(report)}")
    if not bad.empty:
        names = ", ".join(f"{g}.{k}" for g, k in zip(bad["group"], bad["kpi"]))
        print(f"DRIFT in {len(bad)} KPI(s): {names}")
        return 1
    print("ok: no KPI drifted")
    return 0


def _check_update(args, path: Path) -> int:
    from sim.experiments import check

    if args.overrides:
        raise UsageError("check: --update records the scenario as it is; --set is for trying a change")
    old = check.Baseline.read(path) if Path(path).exists() else None
    reps = args.reps or (old.replications if old else check.DEFAULT_REPLICATIONS)
    bar, tick = _progress(reps, "check --update")
    try:
        new, old, report = check.update_baseline(path, args.scenario, args.reps, args.jobs, tick)
    finally:
        if bar is not None:
            bar.close()
    print(
        f"recorded {len(new.kpis)} KPIs of {new.scenario_name} ({new.replications} replications, "
        f"seed {new.seed}, digest {new.scenario_digest[:12]}) in {check.display_path(Path(path))}"
    )
    if old is None:
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
        print(f"{len(changed)} KPI(s) changed ({check.summary_line(report)}):")
        print(check.format_report(report, only_changed=True))
    return 0


def console_main() -> int:
    """Entry point of the ``run-sim`` console script."""
    return main(prog="run-sim")
