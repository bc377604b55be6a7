"""Variance reduction of common random numbers (run by hand; the figures are in docs/model.md).

    python benchmarks/crn_variance.py [--reps 20]

Runs the baseline and two measures (M2, the on-site plan reply, and one more inspector) for
``--reps`` replications. Each measure is run twice: with the baseline's seed (common random
numbers: replication r of both meets the same cases with the same luck) and with another seed
(independent). For each segment and KPI it prints the standard deviation of the per-replication
difference measure - baseline both ways and the ratio of the variances (independent / common).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.experiments.executors import default_jobs  # noqa: E402
from sim.experiments.replications import paired  # noqa: E402

KPIS = ["handling_wd_mean", "full_process_wd_mean", "on_target_share"]
SEGMENTS = ["lv_smb", "lv_standard", "hv_single"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--other-seed", type=int, default=202)
    args = parser.parse_args(argv)
    jobs = default_jobs()
    base = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    measures = {
        "M2 on-site plan reply": sim.load_scenario(
            ROOT / "scenarios" / "measures" / "m02-onsite-plan-reply.yaml"
        ),
        "inspectors 3 -> 4": sim.load_scenario(
            ROOT / "scenarios" / "baseline.yaml", {"resources.inspector.capacity": 4}
        ),
    }
    b = sim.run(base, reps=args.reps, seed=args.seed, jobs=jobs)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for label, scenario in measures.items():
            common = paired(b, sim.run(scenario, reps=args.reps, seed=args.seed, jobs=jobs), KPIS)
            independent = paired(b, sim.run(scenario, reps=args.reps, seed=args.other_seed, jobs=jobs), KPIS)
            table = common[["segment", "kpi", "difference", "difference_sd"]].rename(
                columns={"difference": "diff_common", "difference_sd": "sd_common"}
            )
            table["diff_independent"] = independent["difference"].to_numpy()
            table["sd_independent"] = independent["difference_sd"].to_numpy()
            table["variance_ratio"] = (table["sd_independent"] / table["sd_common"]) ** 2
            table = table[table["segment"].isin(SEGMENTS)]
            print(f"\n{label} vs baseline, {args.reps} replications, seeds {args.seed} / {args.other_seed}")
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
