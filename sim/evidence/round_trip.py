"""The round trip that checks the fit: simulate a scenario with its event log, fit the log, run the
fitted scenario, and compare parameters, KPIs and cycle-time distributions.

* **Parameters**: every fitted value beside the scenario's true one, and whether its 95% interval
  covers it (``FitResult.parameters``; a duration by its mean and cv).
* **KPIs**: per segment, the mean over replications of the headline KPIs in the original run (the
  one that wrote the log) and in a run of the fitted scenario on another seed (independent
  replications), each with its 95% half-width; they *agree* when the difference is within
  sqrt(hw_original² + hw_fitted²), the half-width of the difference of two independent means
  (Welch's, for equal replications and degrees of freedom).
* **Distributions**: the earth mover's (Wasserstein-1) distance between the two runs' elapsed times
  per segment, as process-discovery tools report it, beside the distance between the original and
  the *base* scenario run on that other seed: what sampling alone gives (the noise floor).

The fitted scenario is the base with the overlay's keys set (``--set`` semantics: each replaces the
key whole, as the overlay's values do), so nothing is written to disk here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from sim.evidence.estimates import FitResult, fit_log
from sim.evidence.log_reading import log_from_frame
from sim.experiments.replications import run
from sim.experiments.results import RunResult
from sim.experiments.stats import summarise
from sim.scenario import Scenario, load_scenario

HEADLINE = ("elapsed_wd_mean", "full_process_wd_mean", "handling_wd_mean", "on_target_share")


def fitted_scenario(base_path: str | os.PathLike, fit: FitResult) -> Scenario:
    """The base scenario with the fitted keys set: what the written overlay loads to."""
    overrides = {key: value for key, (value, _) in fit.overlay.items()}
    scenario = load_scenario(base_path, overrides=overrides)
    return scenario.model_copy(update={"name": f"{scenario.name}-fitted"})


@dataclass
class RoundTrip:
    fit: FitResult
    parameters: pd.DataFrame  # the fit's parameters with ``covered`` (and ``cv_covered``)
    kpis: pd.DataFrame  # per segment and KPI: original, fitted, half-widths, agree
    distances: pd.DataFrame  # per segment: EMD fitted vs original, and the noise floor


def coverage(parameters: pd.DataFrame) -> pd.DataFrame:
    """``covered``: the 95% interval of the estimate holds the true value (NaN without interval);
    ``cv_covered`` likewise for a duration's coefficient of variation."""
    out = parameters.copy()
    has = out["ci_low"].notna() & out["ci_high"].notna()
    inside = (out["ci_low"] <= out["base"]) & (out["base"] <= out["ci_high"])
    out["covered"] = inside.where(has)
    has_cv = out["cv_low"].notna() & out["cv_high"].notna()
    out["cv_covered"] = ((out["cv_low"] <= out["base_cv"]) & (out["base_cv"] <= out["cv_high"])).where(has_cv)
    return out


def kpi_agreement(original: RunResult, fitted: RunResult, columns=HEADLINE) -> pd.DataFrame:
    """Per segment and KPI: both means with their 95% half-widths and whether they agree."""
    a = summarise(original.kpis, ["segment"], list(columns))
    b = summarise(fitted.kpis, ["segment"], list(columns)).set_index("segment")
    rows = []
    for r in a.itertuples(index=False):
        for column in columns:
            mean_a, hw_a = getattr(r, column), getattr(r, f"{column}_hw")
            mean_b, hw_b = b.at[r.segment, column], b.at[r.segment, f"{column}_hw"]
            bound = math.hypot(hw_a, hw_b)
            difference = mean_b - mean_a
            agree = bool(abs(difference) <= bound) if np.isfinite(bound) else None
            rows.append(
                {
                    "segment": r.segment,
                    "kpi": column,
                    "original": mean_a,
                    "original_hw": hw_a,
                    "fitted": mean_b,
                    "fitted_hw": hw_b,
                    "difference": difference,
                    "bound": bound,
                    "agree": agree,
                }
            )
    return pd.DataFrame(rows)


def cycle_time_distances(original: RunResult, fitted: RunResult, reference: RunResult) -> pd.DataFrame:
    """Per segment: the earth mover's distance (working days) of the finished cases' elapsed times,
    fitted vs original, and the base on the fitted run's seed vs original (the noise floor)."""

    def elapsed(result: RunResult, segment: str) -> np.ndarray:
        cases = result.cases
        return cases.loc[(cases["segment"] == segment) & cases["finished"], "elapsed_wd"].to_numpy()

    rows = []
    for segment in original.cases["segment"].unique():
        a, b, c = elapsed(original, segment), elapsed(fitted, segment), elapsed(reference, segment)
        if len(a) and len(b) and len(c):
            rows.append(
                {
                    "segment": segment,
                    "cases_original": len(a),
                    "cases_fitted": len(b),
                    "emd_wd": wasserstein_distance(a, b),
                    "emd_noise_wd": wasserstein_distance(a, c),
                    "elapsed_wd_mean": float(a.mean()),
                }
            )
    return pd.DataFrame(rows)


def round_trip(
    base_path: str | os.PathLike, reps: int, seed: int, check_seed: int, jobs: int = 1
) -> RoundTrip:
    """Run the base at ``seed`` with its event log, fit it, run the fitted scenario and the base at
    ``check_seed``, and compare (see the module docstring)."""
    base = load_scenario(base_path)
    original = run(base, reps=reps, seed=seed, jobs=jobs, events=True)
    assert original.events is not None
    fit = fit_log(log_from_frame(original.events, source=f"{base.name} (seed {seed}, {reps} reps)"), base)
    fitted = run(fitted_scenario(base_path, fit), reps=reps, seed=check_seed, jobs=jobs)
    reference = run(base, reps=reps, seed=check_seed, jobs=jobs)
    return RoundTrip(
        fit,
        coverage(fit.parameters),
        kpi_agreement(original, fitted),
        cycle_time_distances(original, fitted, reference),
    )
