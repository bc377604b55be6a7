"""Baseline regression: record the baseline's KPIs once, rerun and compare them later, with a
tolerance per KPI derived from its recorded interval.

A baseline file (``sim.experiments.baseline_file``; the project's is
``tests/regression/baseline_kpis.json``) holds, for every KPI of every customer segment (and the
utilisation and waits of every pool and the flows of every material), the mean over ``n``
replications of the baseline scenario and its 95% Student-t half-width, together with the
scenario's file, digest, seed, replications and the package versions. ``run_sim.py check``
reruns the same replications with the same seed and compares each KPI; ``check --update``
rewrites the file and says what changed.

The tolerance rule
------------------
Each KPI gets its own tolerance, derived from its recorded interval; there is no fixed
percentage anywhere.

* **Unchanged model.** The rerun uses the same seed and replications, and every random input is
  keyed to (seed, replication, case, purpose), so an unchanged model reproduces every number bit
  for bit: the verdict is ``same``. (Only rounding is allowed for: relative 1e-9, e.g. a
  different summation order in a newer numpy.)
* **Changed numbers.** When a number differs, the question is whether the change is larger than
  the Monte-Carlo noise that the recorded interval measures. Take the null hypothesis "the model's
  output distribution is unchanged". The worst case for false alarms is a change that leaves the
  distribution alone but re-draws the random numbers (a refactoring that consumes a stream
  differently, a library that samples differently): then the recorded mean and the new one are
  two independent means of ``n_rec`` and ``n_now`` i.i.d. replications with the same variance
  σ². With the recorded standard deviation ``s = hw · sqrt(n_rec) / t(0.975, n_rec − 1)``,

      T = (now − recorded) / (s · sqrt(1/n_rec + 1/n_now))

  follows Student's t with ``n_rec − 1`` degrees of freedom (normal theory: the difference of the
  means is N(0, σ²(1/n_rec + 1/n_now)) and independent of ``s``). When the random numbers stay
  synchronised (common random numbers), the two means are positively correlated and the
  difference is smaller still, so the test only gets more conservative.
* **One decision over many KPIs.** The check tests ``m`` KPIs at once (those with a positive
  half-width; about 250 for the baseline) and exits 1 if any one drifts, so the level is split
  over them (Bonferroni): a KPI drifts when

      |now − recorded| > t(1 − α / (2m), n_rec − 1) · s · sqrt(1/n_rec + 1/n_now),   α = 0.05,

  which keeps the probability that a statistically unchanged model fails the check at most 5%.
  With 20 replications and m ≈ 250 this is about 3.1 recorded half-widths.
* **Verdicts.** ``same``: the number is reproduced; ``within``: it changed, by less than its
  tolerance (the model's numbers moved, but not beyond what its noise explains: worth a look, not
  a failure); ``DRIFT``: it moved beyond its tolerance; ``new`` / ``missing``: see below. The
  check exits 1 on any ``DRIFT`` or ``missing``.
* **What the rule can and cannot see.** Because the rerun uses common random numbers, a small
  genuine change shows up as ``within`` rather than ``DRIFT`` when it is smaller than the noise
  of a recording (e.g. completion inspections half a day longer move the three-zero elapsed time
  by 0.6 wd against a tolerance of 1.6 wd, but their handling time by 0.6 wd against 0.26 wd, so
  the check fails and names those KPIs). Changes below the noise are exactly those that the
  recorded intervals could not resolve anyway; more replications shrink every tolerance as
  1/sqrt(n).
* **No spread.** A KPI whose recorded half-width is 0 (a count that does not depend on luck, a
  target, procedures per case when every case takes the same ones) or that has fewer than two
  replications with a value cannot be judged statistically: any change of it is drift. A KPI that
  had a value and has none now, or the reverse, or that disappeared from the outputs, is drift;
  a KPI that is new in the outputs is reported as ``new`` and is not drift.

Means over replications are close to normal by the central limit theorem even for maxima and
95th percentiles; the t-test is the usual approximation there.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.experiments.baseline_file import COLUMNS, CONFIDENCE, Baseline, BaselineError
from sim.experiments.replications import Progress, RunResult, default_jobs, run
from sim.experiments.stats import summarise, t_quantile
from sim.kpi_catalogue import TARGET_BOUNDS, is_kpi
from sim.outputs.tables import versions
from sim.scenario import Scenario, load_scenario

__all__ = [
    "Baseline",
    "BaselineError",
    "CheckOutcome",
    "check_baseline",
    "compare",
    "drifted",
    "kpi_intervals",
    "record_baseline",
    "tolerance",
    "update_baseline",
]

DEFAULT_REPLICATIONS = 20
ALPHA = 0.05  # family-wise false-alarm probability of the whole check
ROUNDING = 1e-9  # relative difference still counted as the same number (floating point only)

VERDICTS = ("same", "within", "DRIFT", "new", "missing")


# ------------------------------------------------------------------------------ KPIs of a run


def recorded(column: str) -> bool:
    """Whether the check records a column: every KPI of the catalogue, and the targets' bounds
    (settings, but a moved bound changes what the shares on target mean). Identifiers and sizes
    (a pool's members and capacity, infinite when unlimited) are not recorded."""
    return is_kpi(column) or column in TARGET_BOUNDS


def _intervals(table: pd.DataFrame, key: str, prefix: str) -> list[tuple]:
    if table is None or len(table) == 0:
        return []
    columns = [c for c in table.columns if recorded(c)]
    summary = summarise(table, [key], columns, CONFIDENCE, counts=True)
    return [
        (f"{prefix}{row[key]}", c, row[c], row[f"{c}_hw"], row[f"{c}_n"])
        for row in summary.to_dict("records")
        for c in columns
    ]


def kpi_intervals(result: RunResult) -> pd.DataFrame:
    """Every KPI of a run as (group, kpi, mean, half_width, n): groups are the segments, then
    ``pool:NAME``, ``material:NAME`` and ``target:SEGMENT#N`` (the segment's N-th target, from
    0); means over replications with 95% t half-widths, ``n`` the replications with a value
    (``sim.experiments.stats.summarise``)."""
    rows = _intervals(result.kpis, "segment", "")
    rows += _intervals(result.pools, "pool", "pool:")
    rows += _intervals(result.materials, "material", "material:")
    targets = result.targets
    if targets is not None and len(targets):  # each target by its segment and number: lv_smb#1
        key = targets["segment"] + "#" + targets["target"].astype(str)
        if "period" in targets and (targets["period"] != "all").any():  # dated: lv_smb#1@2022
            key = key + "@" + targets["period"]
        keyed = targets.assign(key=key)
        rows += _intervals(
            keyed.drop(columns=["segment", "target", "period"], errors="ignore"), "key", "target:"
        )
    return pd.DataFrame(rows, columns=COLUMNS)


# ------------------------------------------------------------------------------ comparing


def tolerance(half_width: float, n_recorded: int, n_now: int, m: int, alpha: float = ALPHA) -> float:
    """The largest difference of means that is not drift (see the module docstring).

    NaN when the KPI cannot be judged statistically (no spread, fewer than two replications)."""
    if not (n_recorded >= 2 and n_now >= 1 and half_width > 0 and math.isfinite(half_width)):
        return math.nan
    s = half_width * math.sqrt(n_recorded) / t_quantile(0.5 + CONFIDENCE / 2, n_recorded - 1)
    critical = t_quantile(1 - alpha / (2 * max(m, 1)), n_recorded - 1)
    return float(critical * s * math.sqrt(1 / n_recorded + 1 / n_now))


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=ROUNDING, abs_tol=ROUNDING * 1e-3)


def compare(recorded: pd.DataFrame, now: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Compare two KPI interval tables (``kpi_intervals``); one row per KPI of either (recorded
    order, new ones last), with ``recorded, half_width, n, now, now_half_width, now_n, difference,
    tolerance, verdict``."""
    columns = ["mean", "half_width", "n"]
    before = dict(zip(zip(recorded["group"], recorded["kpi"]), recorded[columns].itertuples(index=False)))
    after = dict(zip(zip(now["group"], now["kpi"]), now[columns].itertuples(index=False)))
    keys = list(before) + [k for k in after if k not in before]
    m = sum(1 for k, r in before.items() if k in after and r.half_width > 0 and r.n >= 2)
    nan = (math.nan, math.nan, 0)
    rows = []
    for key in keys:
        rec, cur = before.get(key), after.get(key)
        x, hw, n = rec if rec is not None else nan
        y, hw_now, n_now = cur if cur is not None else nan
        tol = math.nan
        if rec is None:
            verdict = "new"
        elif cur is None:
            verdict = "missing"
        else:
            tol = tolerance(hw, int(n), int(n_now), m, alpha)
            if _same(x, y):
                verdict = "same"
            elif math.isnan(x) or math.isnan(y) or math.isnan(tol):
                verdict = "DRIFT"
            else:
                verdict = "within" if abs(y - x) <= tol else "DRIFT"
        rows.append((*key, x, hw, int(n), y, hw_now, int(n_now), y - x, tol, verdict))
    out = pd.DataFrame(
        rows,
        columns=[
            "group",
            "kpi",
            "recorded",
            "half_width",
            "n",
            "now",
            "now_half_width",
            "now_n",
            "difference",
            "tolerance",
            "verdict",
        ],
    )
    out.attrs["tested"] = m
    out.attrs["alpha"] = alpha
    return out


def drifted(report: pd.DataFrame) -> pd.DataFrame:
    """The rows of a ``compare`` report that fail the check."""
    return report[report["verdict"].isin(["DRIFT", "missing"])]


# ------------------------------------------------------------------------------ running


@dataclass
class CheckOutcome:
    """A rerun against a baseline file: the report of every KPI (``compare``), the recording,
    the scenario rerun and its run, and notes on what differs from the recording."""

    report: pd.DataFrame
    baseline: Baseline
    scenario: Scenario
    result: RunResult
    notes: list[str]

    @property
    def ok(self) -> bool:
        return drifted(self.report).empty


def _run(scenario: Scenario, reps: int, seed: int, jobs: int | None, progress: Progress | None) -> RunResult:
    jobs = jobs or min(default_jobs(), reps)
    return run(scenario, reps=reps, seed=seed, jobs=jobs, progress=progress)


def record_baseline(
    scenario: Scenario,
    reps: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> tuple[Baseline, RunResult]:
    """Run ``reps`` replications of ``scenario`` (on all cores unless ``jobs``) and return what a
    baseline file would hold."""
    seed = scenario.seed if seed is None else int(seed)
    result = _run(scenario, reps, seed, jobs, progress)
    baseline = Baseline(
        scenario_file=Path(scenario.source).resolve(),
        scenario_name=scenario.name,
        scenario_digest=result.scenario.digest(),
        seed=seed,
        replications=reps,
        kpis=kpi_intervals(result),
        versions=versions(),
        recorded_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
    return baseline, result


def check_baseline(
    baseline: str | os.PathLike,
    overrides: list[str] | dict | None = None,
    scenario: str | os.PathLike | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> CheckOutcome:
    """Rerun the recorded replications (same seed) of the scenario recorded in the ``baseline``
    file (or of ``scenario``), with ``overrides`` if given, and compare every KPI with the file;
    ``outcome.ok`` is False on drift."""
    recorded = Baseline.read(baseline)
    path = Path(scenario) if scenario is not None else recorded.scenario_file
    sc = load_scenario(path, overrides or None)
    result = _run(sc, recorded.replications, recorded.seed, jobs, progress)
    report = compare(recorded.kpis, kpi_intervals(result))
    return CheckOutcome(report, recorded, sc, result, _notes(recorded, result))


def update_baseline(
    baseline: str | os.PathLike,
    scenario: str | os.PathLike | None = None,
    reps: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> tuple[Baseline, Baseline | None, pd.DataFrame | None]:
    """Rerun and rewrite the baseline file: ``scenario`` (default: the one recorded; needed for a
    new file) with its own seed, ``reps`` replications (default: as recorded, else 20). Returns
    (new, old or None, report of old against new or None)."""
    path = Path(baseline)
    old = Baseline.read(path) if path.exists() else None
    if scenario is not None:
        source = Path(scenario)
    elif old is not None:
        source = old.scenario_file
    else:
        raise BaselineError(f"{path}: no baseline file yet: name the scenario to record")
    sc = load_scenario(source)
    reps = reps or (old.replications if old else DEFAULT_REPLICATIONS)
    new, _ = record_baseline(sc, reps, sc.seed, jobs, progress)
    report = compare(old.kpis, new.kpis) if old is not None else None
    unchanged = (
        old is not None
        and report is not None
        and (report["verdict"] == "same").all()
        and (old.scenario_digest, old.seed, old.replications)
        == (new.scenario_digest, new.seed, new.replications)
    )
    if not unchanged:  # an identical recording is not rewritten: only its date would change
        new.write(path)
    return new, old, report


def _notes(recorded: Baseline, result: RunResult) -> list[str]:
    notes = []
    digest = result.scenario.digest()
    if digest != recorded.scenario_digest:
        notes.append(
            f"the scenario differs from the recorded one (digest {digest[:12]}, recorded "
            f"{recorded.scenario_digest[:12]}): where every KPI is the same, a label or a key that "
            "changes no number moved; `check --update` records it"
        )
    now = versions()
    changed = [
        f"{k} {recorded.versions[k]} -> {now[k]}"
        for k in sorted(recorded.versions)
        if k in now and now[k] != recorded.versions[k]
    ]
    if changed:
        notes.append("versions differ from the recording: " + ", ".join(changed))
    return notes
