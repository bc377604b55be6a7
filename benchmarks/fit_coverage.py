"""Coverage of the bootstrap interval of a fitted mean (run by hand; the figures are in
benchmarks/README.md).

    python benchmarks/fit_coverage.py [--reps 200] [--sizes 30 100] [--seed 7]

``fit_duration`` gives a triangular or uniform fit's 95% interval of the mean as the fitted mean
± 1.96 bootstrap standard errors (``sim/evidence/fitting.py``, ``_bootstrap_intervals``). For
each true distribution and sample size, draws ``--reps`` independent samples (numpy's
``default_rng``, seeded from ``--seed``, the case and the size), fits each, keeps the experiments
where the chosen family is the true one, and prints one Markdown table row: how often the true
family was chosen, the share of kept intervals that hold the true mean with its 95% Wilson
interval, the median interval width against the width 2 x 1.96 sd / sqrt(n) of a known-sd
interval of the sample mean, and the CPU time. A fit with its bootstrap takes about a second.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.evidence.fitting import BOOTSTRAP_RESAMPLES, REFIT_MAXFEV, REFIT_SIMPLEX, REFIT_TOL, fit_duration  # noqa: E402
from sim.experiments.stats import Z95, wilson  # noqa: E402


def _triangular(low: float, mode: float, high: float) -> dict:
    mean = (low + mode + high) / 3
    var = (low * low + mode * mode + high * high - low * mode - low * high - mode * high) / 18
    return {
        "label": f"triangular {low:g}, {mode:g}, {high:g}",
        "family": "triangular",
        "mean": mean,
        "sd": math.sqrt(var),
        "draw": lambda rng, n: rng.triangular(low, mode, high, n),
    }


def _uniform(low: float, high: float) -> dict:
    return {
        "label": f"uniform {low:g}-{high:g}",
        "family": "uniform",
        "mean": (low + high) / 2,
        "sd": (high - low) / math.sqrt(12),
        "draw": lambda rng, n: rng.uniform(low, high, n),
    }


CASES = [_triangular(1, 2, 5), _uniform(2, 6), _triangular(1, 1, 4)]
HEADER = (
    "| true distribution | n | true family chosen | coverage of the mean (Wilson 95%) "
    "| median width / (2 x 1.96 sd / sqrt n) | CPU s |\n|---|---|---|---|---|---|"
)


def measure(case: dict, n: int, reps: int, seed: int, index: int) -> str:
    """One table row: ``reps`` samples of size ``n`` of ``case``, each fitted."""
    rng = np.random.default_rng([seed, index, n])
    chosen = covered = 0
    widths = []
    start = time.process_time()
    for _ in range(reps):
        fit = fit_duration(case["draw"](rng, n))
        if fit is None or fit.family != case["family"] or fit.mean_ci is None:
            continue
        chosen += 1
        low, high = fit.mean_ci
        covered += low <= case["mean"] <= high
        widths.append(high - low)
    cpu = time.process_time() - start
    p, lo, hi = wilson(covered, chosen)
    reference = 2 * Z95 * case["sd"] / math.sqrt(n)
    width = float(np.median(widths)) if widths else math.nan
    return (
        f"| {case['label']} | {n} | {chosen}/{reps} ({chosen / reps:.0%}) "
        f"| **{p:.1%}** ({covered}/{chosen}; {lo:.1%} - {hi:.1%}) "
        f"| {width:.3f} / {reference:.3f} = {width / reference:.2f} | {cpu:.0f} |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="experiments per case and size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cases", type=int, nargs="+", help="indices into CASES (default: all)")
    args = parser.parse_args(argv)
    print(
        f"{args.reps} experiments per row, seed {args.seed}; bootstrap {BOOTSTRAP_RESAMPLES} resamples, "
        f"refit simplex {REFIT_SIMPLEX}, tol {REFIT_TOL}, maxfev {REFIT_MAXFEV}\n"
    )
    print(HEADER, flush=True)
    for index, case in enumerate(CASES):
        if args.cases is not None and index not in args.cases:
            continue
        for n in args.sizes:
            print(measure(case, n, args.reps, args.seed, index), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
