"""``compare REFERENCE OTHER...``: every scenario on common random numbers, the table of paired
differences printed, the comparison folder written (``sim.outputs.folders.write_comparison``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from sim.cli.common import (
    UsageError,
    add_debug,
    add_force,
    output_folder,
    positive_int,
    progress_bar,
    seed,
    ticker,
)
from sim.experiments.compare import compare
from sim.experiments.replications import default_jobs
from sim.outputs.publish import staged
from sim.outputs.tables import FORMATS
from sim.scenario import load_scenario
from sim.scenario.steps import measure_steps


def add_parser(verbs: Any) -> None:
    p = verbs.add_parser("compare", help="compare scenarios with a reference on common random numbers")
    p.add_argument("reference", help="reference scenario YAML file (e.g. the baseline)")
    p.add_argument("others", nargs="+", metavar="OTHER", help="scenarios to compare with it")
    p.add_argument("--reps", type=positive_int, help="replications (default: the reference's)")
    p.add_argument("--seed", type=seed, help="common random seed (default: the reference's)")
    p.add_argument("--out", type=Path, help="output folder (default: results/compare-REFERENCE)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="table format")
    p.add_argument("--jobs", type=positive_int, help="worker processes (default: all cores)")
    p.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the console, report and figures"
    )
    p.add_argument(
        "--by-measure",
        action="store_true",
        help="also run the last scenario's measures one at a time (its extends list, in roll-out order) "
        "and show each one's paired contribution",
    )
    add_force(p)
    add_debug(p)


def command(args: argparse.Namespace) -> int:
    from sim.outputs.answer import answer_sentences, verdict_matrix
    from sim.outputs.by_measure import by_measure_legend, by_measure_table
    from sim.outputs.folders import write_comparison
    from sim.outputs.fonts import CJK_HINT
    from sim.outputs.report import comparison_table, table_legend, target_changes
    from sim.outputs.wording import TEXT, compared_label

    reference = load_scenario(args.reference)
    others = [load_scenario(path) for path in args.others]
    names = "+".join([reference.name, *(o.name for o in others)])
    out = output_folder(
        args.out or Path("results") / f"compare-{reference.name}", ("compare", names), args.force
    )
    steps = measure_steps(args.others[-1]) if args.by_measure else []
    reps = args.reps or reference.replications
    runs = reps * (1 + len(others) + len(steps))
    jobs = args.jobs or min(default_jobs(), runs)
    bar = progress_bar(runs, "compare")
    try:
        result = compare(reference, others, reps=reps, seed=args.seed, jobs=jobs, progress=ticker(bar))
        if steps:  # the last scenario's measures one at a time, on the same random numbers
            one_by_one = compare(steps[0], steps[1:], reps, result.seed, jobs, progress=ticker(bar))
            result = dataclasses.replace(result, by_measure=one_by_one)
    except ValueError as exc:  # e.g. two scenarios with the same name
        raise UsageError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    t = TEXT[args.lang]
    colon = "：" if args.lang == "zh" else ": "

    def plain(text: str) -> str:  # Markdown's emphasis off on a console
        return text.replace("**", "").replace("*", "")

    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 60):
        if len(result.targets):
            print(f"{t['answer']}{colon}\n")
            print(verdict_matrix(result, args.lang).to_string(index=False))
            print("\n" + "\n".join(f"- {plain(s)}" for s in answer_sentences(result, args.lang)))
            print("\n" + plain(t["answer_legend"].format(reps=result.replications)))
        ref = compared_label(result, result.reference, args.lang)
        print("\n" + plain(t["method_text"].format(ref=ref, seed=result.seed, reps=result.replications)))
        print(f"\n{t['results']}{colon}{plain(table_legend(args.lang))}\n")
        print(comparison_table(result, args.lang).to_string(index=False))
        for note in target_changes(result):
            print(f"note: {note}; its Δ on target compares different bounds")
        if result.by_measure is not None:
            print(f"\n{t['by_measure']}{colon}{plain(by_measure_legend(result.by_measure, args.lang))}\n")
            print(by_measure_table(result.by_measure, args.lang).to_string(index=False))
    replacing = out.is_dir() and any(out.iterdir())
    with warnings.catch_warnings(record=True) as caught, staged(out) as folder:
        warnings.simplefilter("always")
        written = write_comparison(result, folder, fmt=args.format, lang=args.lang, jobs=jobs)
    if any(CJK_HINT in str(w.message) for w in caught):
        print(f"warning: {CJK_HINT}", file=sys.stderr)
    tables = [p.name for p in written if p.suffix in (".parquet", ".csv")]
    figures = [p for p in written if p.suffix == ".png"]
    others_written = [p.name for p in written if p.suffix in (".md", ".html", ".json")]
    print(
        f"\nwrote {', '.join(tables)}, {len(figures)} figures, {', '.join(others_written[:-1])} "
        f"and {others_written[-1]} to {out}" + (" (replacing the earlier results there)" if replacing else "")
    )
    return 0
