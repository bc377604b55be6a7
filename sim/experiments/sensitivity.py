"""Sensitivity to assumptions: which uncertain inputs of a scenario decide its KPIs.

A sensitivity file (``sim.experiments.sensitivity_file``) lists inputs with ranges and the KPIs to
screen. ``design`` draws the points to run with SALib: Morris' elementary-effects screening (``r``
trajectories, each moving one input at a time by a step of the grid, ``r (k + 1)`` points for
``k`` inputs) or, as an option, Saltelli's sample for Sobol indices (``N (k + 2)`` points). The
design is seeded with the file's seed, so the same file gives the same design.

Every design point is a scenario made by overrides of the base, run with the SAME seed and
replications: common random numbers (``sim.engine.streams``), so two points differ only by what
their inputs change, and an input that cannot reach a KPI moves it by exactly nothing. The points
are run as a sweep (``sim.experiments.sweep.run_sweep``): on one executor, each point written as
it finishes (``runs/points/``), and ``resume`` computes only the missing ones. A point the design
visits twice is run once.

Per KPI and segment, the KPI's mean over replications at each point goes to SALib's analysis:
Morris gives ``mu_star`` (the mean absolute elementary effect: about how much the KPI moves when
the input crosses its whole range, in the KPI's unit), ``mu`` (signed) and ``sigma`` (spread of
the effects: interactions or non-linearity), and SALib's ``mu_star_conf`` (1.96 bootstrap standard
deviations: symmetric, it can reach below 0); ``mu_star_interval`` adds the bootstrap-percentile
95% interval ``mu_star_low`` - ``mu_star_high``, which never does (what the report and figures
show). Sobol gives the first-order and total indices ``S1`` and ``ST``. Inputs are ranked by
``mu_star`` (``ST``); a KPI that has the same value at every design point ranks none. A
whole-number input (a head count) is rounded at each point; its effects are counted per step of
the design grid, like the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from sim.experiments.executors import Executor
from sim.experiments.sensitivity_file import Input, SensitivitySpec, load_sensitivity
from sim.experiments.sensitivity_ranges import Ranges, explain_refusal
from sim.experiments.spec_files import points_manifest
from sim.experiments.sweep import PointProgress, SweepOutcome, run_sweep
from sim.experiments.sweep_file import SweepPoint, SweepSpec, Variation, make_points, values_table
from sim.outputs.tables import FORMATS, write_manifest, write_table
from sim.scenario.errors import ScenarioError

__all__ = [
    "Design",
    "SensitivityOutcome",
    "analyse",
    "design",
    "load_sensitivity",
    "run_sensitivity",
    "sensitivity",
]

MORRIS_COLUMNS = ["mu_star", "mu_star_low", "mu_star_high", "mu_star_noise", "mu_star_conf", "mu", "sigma"]
SOBOL_COLUMNS = ["ST", "ST_conf", "S1", "S1_conf"]
RESAMPLES = 1000  # bootstrap resamples of the confidence intervals


@dataclass
class Design:
    """The design of a sensitivity run: ``matrix`` (one row per design row, one column per input,
    in the inputs' units), the point each row runs (``rows``) and the sweep of distinct points."""

    spec: SensitivitySpec
    matrix: np.ndarray
    rows: list[int]  # design row -> index of its point in ``sweep.points``
    sweep: SweepSpec


@dataclass
class SensitivityOutcome:
    """What ``run_sensitivity`` produced: the ``indices`` per KPI, segment and input, the
    ``design`` table (inputs and KPI means per design row) and the sweep of the points."""

    design: Design
    indices: pd.DataFrame
    table: pd.DataFrame
    runs: SweepOutcome
    out: Path | None
    seconds: float
    files: list[str]


def problem(spec: SensitivitySpec) -> dict[str, Any]:
    """SALib's problem: the inputs and their ranges."""
    return {
        "num_vars": len(spec.inputs),
        "names": [i.key for i in spec.inputs],
        "bounds": [[i.low, i.high] for i in spec.inputs],
    }


def _value(item: Input, x: float) -> int | float:
    """A design value as the scenario takes it: rounded to whole numbers for a whole input, and to
    12 significant digits otherwise (so that 0.1 + 0.2 is written 0.3)."""
    return round(x) if item.whole else float(f"{x:.12g}")


def design(spec: SensitivitySpec) -> Design:
    """The design points of ``spec``, each validated as a scenario. The ranges were checked when
    the file was loaded (ends and corners); a point the scenario still refuses (a rule across parts
    of the scenario) is reported at the line of the input to blame, with the values it may take."""
    from SALib.sample import morris as morris_sample  # SALib: only when a design is made (slow import)
    from SALib.sample import sobol as sobol_sample

    if spec.method == "morris":
        matrix = morris_sample.sample(
            problem(spec), spec.trajectories, num_levels=spec.levels, seed=spec.seed
        )
    else:
        matrix = sobol_sample.sample(problem(spec), spec.samples, calc_second_order=False, seed=spec.seed)
    seen: dict[str, int] = {}
    variations: list[Variation] = []
    rows: list[int] = []
    origins = {i.key: ("inputs", i.key) for i in spec.inputs}
    for x in matrix:
        overrides = {i.key: _value(i, v) for i, v in zip(spec.inputs, x)}
        same = json.dumps(overrides, sort_keys=True)
        if same not in seen:
            seen[same] = len(variations)
            variations.append((overrides, spec.at(("inputs",)), dict(origins)))
        rows.append(seen[same])
    ranges = Ranges(spec.base_scenario, spec.base_data, spec.base_lines, spec.base, spec.at)

    def refused(index: int, overrides: dict[str, Any], exc: ScenarioError) -> NoReturn:
        explain_refusal(ranges, spec.inputs, overrides, exc, f"design point {index}")

    points = make_points(
        variations, spec.base_data, spec.base_lines, spec.base, spec.at, "sensitivity", refused
    )
    sweep = SweepSpec(
        name=spec.name,
        title=spec.title,
        source=spec.source,
        base=spec.base,
        replications=spec.replications,
        seed=spec.seed,
        common=spec.common,
        parameters=[i.key for i in spec.inputs],
        points=points,
        values=pd.DataFrame(),
        labels={i.key: i.label for i in spec.inputs},
        data=spec.data,
    )
    sweep.values = values_table(sweep, spec.base_data)
    return Design(spec, np.asarray(matrix, dtype=float), rows, sweep)


def kpi_means(runs: pd.DataFrame, points: list[SweepPoint], kpi: str, segment: str) -> np.ndarray:
    """The mean over replications of ``kpi`` for ``segment`` at each point (NaN where no
    replication has a value, e.g. no case of the segment finished)."""
    rows = runs[runs["segment"] == segment]
    means = rows.groupby("point", sort=True)[kpi].mean()
    return np.array([means.get(p.index, np.nan) for p in points], dtype=float)


def analyse(plan: Design, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indices per KPI, segment and input (ranked), and the design table: the inputs and the
    KPI means per design row. ``runs`` is the sweep's KPI table of the design's points."""
    spec = plan.spec
    table = pd.DataFrame({"row": np.arange(len(plan.rows)), "point": plan.rows})
    table["point_id"] = pd.Series([plan.sweep.points[r].id for r in plan.rows], dtype="string")
    for item in spec.inputs:
        table[item.key] = [plan.sweep.points[r].overrides[item.key] for r in plan.rows]
    parts = []
    for kpi, segment in spec.kpis:
        y = kpi_means(runs, plan.sweep.points, kpi, segment)[plan.rows]
        table[f"{kpi}:{segment}"] = y
        parts.append(_indices(plan, y, kpi, segment, noise_level(plan, runs, kpi, segment)))
    return pd.concat(parts, ignore_index=True), table


def _indices(plan: Design, y: np.ndarray, kpi: str, segment: str, noise: np.ndarray) -> pd.DataFrame:
    """One KPI's indices, ranked (1: the input that moves it most); all NaN when a point has no
    value of the KPI."""
    spec = plan.spec
    k = len(spec.inputs)
    columns = MORRIS_COLUMNS if spec.method == "morris" else SOBOL_COLUMNS
    values: dict[str, np.ndarray] = {c: np.full(k, np.nan) for c in columns}
    constant = constant_value(y) is not None
    if constant:  # no input moves it: every elementary effect is 0, a variance share is undefined
        values = {c: np.zeros(k) if spec.method == "morris" else np.full(k, np.nan) for c in columns}
    elif np.isfinite(y).all():
        from SALib.analyze import morris as morris_analysis
        from SALib.analyze import sobol as sobol_analysis

        if spec.method == "morris":
            result = morris_analysis.analyze(
                problem(spec),
                plan.matrix,
                y,
                num_resamples=RESAMPLES,
                num_levels=spec.levels,
                seed=spec.seed,
            )
        else:
            result = sobol_analysis.analyze(
                problem(spec), y, calc_second_order=False, num_resamples=RESAMPLES, seed=spec.seed
            )
        values = {c: np.asarray(result[c], dtype=float) for c in columns if c in result}
        if spec.method == "morris":
            values["mu_star_low"], values["mu_star_high"] = mu_star_interval(plan, y)
            values["mu_star_noise"] = noise
    frame = pd.DataFrame(
        {
            "kpi": pd.Series([kpi] * k, dtype="string"),
            "segment": pd.Series([segment] * k, dtype="string"),
            "input": pd.Series([i.key for i in spec.inputs], dtype="string"),
            "label": pd.Series([i.label for i in spec.inputs], dtype="string"),
            "low": [float(i.low) for i in spec.inputs],
            "high": [float(i.high) for i in spec.inputs],
            **values,
        }
    )
    order = np.argsort(-np.nan_to_num(values[columns[0]], nan=-np.inf), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    frame["rank"] = pd.Series(
        [pd.NA if np.isnan(v) or constant else n + 1 for n, v in enumerate(frame[columns[0]])], dtype="Int64"
    )
    return frame


def constant_value(y) -> float | None:
    """The KPI's value when it is the same at every design point (no input moves it), else None."""
    y = np.asarray(y, dtype=float)
    return float(y[0]) if len(y) and np.isfinite(y).all() and bool((y == y[0]).all()) else None


def elementary_effects(plan: Design, y: np.ndarray) -> np.ndarray:
    """The elementary effects of a Morris design, one row per input and one column per trajectory,
    as SALib computes them: the change of the KPI ``y`` (per design row) over a step, divided by the
    step as a fraction of the input's range."""
    spec = plan.spec
    k = len(spec.inputs)
    r = len(y) // (k + 1)
    span = np.array([i.high - i.low for i in spec.inputs], dtype=float)
    steps = np.diff(plan.matrix.reshape(r, k + 1, k), axis=1) / span  # (r, k steps, k inputs)
    changes = np.diff(np.asarray(y, dtype=float).reshape(r, k + 1), axis=1)
    effects = np.zeros((k, r))
    for t in range(r):
        for n in range(k):  # each step of a trajectory moves one input
            moved = int(np.argmax(steps[t, n] != 0))
            effects[moved, t] = changes[t, n] / steps[t, n, moved]
    return effects


def mu_star_interval(plan: Design, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bootstrap-percentile 95% interval of each input's ``mu_star``: the trajectories'
    elementary effects resampled ``RESAMPLES`` times (seeded by the file's seed), the 2.5th and
    97.5th percentiles of the resampled means of their absolute values. A mean of absolute values:
    the interval never goes below 0, and is [0, 0] for an input that never moves the KPI."""
    effects = elementary_effects(plan, y)
    r = effects.shape[1]
    rng = np.random.default_rng(plan.spec.seed)
    means = np.abs(effects[:, rng.integers(r, size=(RESAMPLES, r))]).mean(axis=2)
    low, high = np.percentile(means, [2.5, 97.5], axis=1)
    return low, high


def noise_level(plan: Design, runs: pd.DataFrame, kpi: str, segment: str) -> np.ndarray:
    """Per input, the ``mu_star`` that the replications' noise alone reaches (97.5%): what an
    input with no effect would show. A design point's KPI is a mean over replications, so a step
    that changes nothing the KPI depends on can still change its mean a little (a queue's order);
    the absolute values of ``mu_star`` turn that noise into a positive effect. From each step's
    paired differences over the replications (common random numbers), its standard error ``s``;
    with no effect an elementary effect is about normal with mean 0, so ``mu_star`` over the ``r``
    trajectories has mean sqrt(2/pi)·mean(s) and variance (1 - 2/pi)·mean(s²)/r; the level is the
    mean plus 1.96 of its standard deviations. NaN without the replications' values (fewer than
    two replications, or a table without them); 0 where every step changes nothing at all."""
    spec = plan.spec
    k = len(spec.inputs)
    if spec.method != "morris" or "replication" not in runs:
        return np.full(k, np.nan)
    rows = runs[runs["segment"] == segment].pivot_table(index="point", columns="replication", values=kpi)
    if rows.shape[1] < 2:
        return np.full(k, np.nan)
    values = rows.reindex([plan.sweep.points[r].index for r in plan.rows]).to_numpy(dtype=float)
    r = len(plan.rows) // (k + 1)
    span = np.array([i.high - i.low for i in spec.inputs], dtype=float)
    steps = np.diff(plan.matrix.reshape(r, k + 1, k), axis=1) / span  # (r, k steps, k inputs)
    changes = np.diff(values.reshape(r, k + 1, -1), axis=1)  # (r, k steps, replications)
    errors = np.zeros((k, r))
    for t in range(r):
        for n in range(k):  # each step of a trajectory moves one input (as elementary_effects)
            moved = int(np.argmax(steps[t, n] != 0))
            paired = changes[t, n] / steps[t, n, moved]
            errors[moved, t] = np.std(paired, ddof=1) / np.sqrt(len(paired))
    mean = np.sqrt(2 / np.pi) * errors.mean(axis=1)
    return mean + 1.96 * np.sqrt((1 - 2 / np.pi) * (errors**2).mean(axis=1) / r)


def run_sensitivity(
    spec: SensitivitySpec,
    out: str | Path | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    progress: PointProgress | None = None,
    fmt: str = "parquet",
    executor: Executor | None = None,
    command: list[str] | None = None,
    plan: Design | None = None,
    outputs: Callable[[SensitivityOutcome], list[str]] | None = None,
) -> SensitivityOutcome:
    """Run the design of ``spec`` and analyse it (see ``sensitivity`` for the arguments). With an
    output folder, the points go to ``out/runs`` (a sweep folder), the indices and the design
    table to ``out``, and ``outputs`` (``sim.outputs.sensitivity_figures.write_sensitivity_outputs``)
    draws the figures and the report there. The indices are empty when a point failed
    (``outcome.runs.failures`` names it)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    started = time.monotonic()
    plan = plan or design(spec)
    folder = Path(out) if out is not None else None
    if folder is not None:  # the folder is this command's from the start: --resume finds it
        write_manifest(folder, {**_manifest(plan, resume, command), "status": "running"})
    runs = run_sweep(
        plan.sweep,
        out=folder / "runs" if folder is not None else None,
        jobs=jobs,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        fmt=fmt,
        executor=executor,
        command=command,
    )
    if runs.failures:
        indices, table = pd.DataFrame(), pd.DataFrame()
    else:
        indices, table = analyse(plan, runs.table)
    outcome = SensitivityOutcome(plan, indices, table, runs, folder, time.monotonic() - started, [])
    if folder is not None:
        if not runs.failures:
            written = [
                write_table(indices, folder, "indices", fmt),
                write_table(table, folder, "design", fmt),
            ]
            outcome.files = [p.name for p in written] + (outputs(outcome) if outputs is not None else [])
        status = {
            "status": "failed" if runs.failures else "complete",
            "points_computed": runs.computed,
            "points_resumed": runs.skipped,
            "failures": runs.failures,
            **runs.executor,
            "seconds": round(outcome.seconds, 3),
            "files": outcome.files,
        }
        write_manifest(folder, {**_manifest(plan, resume, command), **status})
    return outcome


def _manifest(plan: Design, resume: bool, command: list[str] | None) -> dict:
    spec = plan.spec
    return points_manifest(
        "sensitivity",
        spec,
        resume,
        command,
        method=spec.method,
        trajectories=spec.trajectories,
        levels=spec.levels,
        samples=spec.samples,
        inputs={i.key: {"label": i.label, "range": [i.low, i.high]} for i in spec.inputs},
        kpis=[list(k) for k in spec.kpis],
        design_rows=len(plan.rows),
        points=len(plan.sweep.points),
    )


def sensitivity(
    file: str | Path | dict,
    *,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    fmt: str = "parquet",
) -> pd.DataFrame:
    """Screen the inputs of a sensitivity file and return the indices: per KPI, segment and input
    the Morris ``mu_star`` (its bootstrap-percentile 95% interval ``mu_star_low`` -
    ``mu_star_high``, SALib's half-width ``mu_star_conf``), ``mu`` and ``sigma`` (Sobol: ``ST``,
    ``S1`` and their half-widths) and the ``rank`` (none for a KPI that never varies). ``file`` is
    a sensitivity file or a mapping with the same keys (``base`` may be a loaded ``Scenario``);
    ``reps`` / ``seed`` replace the file's; ``jobs``, ``scheduler``, ``out`` and ``resume`` as
    for ``sim.sweep``. The indices are the same whatever the executor. Raises ``RuntimeError``
    naming the points that failed."""
    spec = load_sensitivity(file, reps=reps, seed=seed)
    outcome = run_sensitivity(spec, out=out, jobs=jobs, scheduler=scheduler, resume=resume, fmt=fmt)
    if outcome.runs.failures:
        named = "; ".join(f"{k}: {v}" for k, v in outcome.runs.failures.items())
        raise RuntimeError(f"{len(outcome.runs.failures)} design points failed: {named}")
    return outcome.indices
