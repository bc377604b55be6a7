"""The fewest staff that meet the targets: a sequential search over staffings on common random
numbers (the procedure, and what its confidence means, is in ``docs/staffing.md``).

A *staffing* gives the members of each chosen pool; its cost is the sum of members x cost per
member. Each staffing is simulated with replications 0, 1, 2, ... of one seed, so every staffing
meets the same cases with the same luck (common random numbers), and its replications grow in
*looks*: ``start`` at once, then ``step`` more at each look up to ``max``. At each look every target
is judged by a one-sided Student-t bound on the mean over replications, at level
1 - (1 - confidence) / (targets x looks): a target is **met** when the bound on the mean clears it,
**missed** when the bound on the other side fails it, and still open otherwise. By the union bound
the chance that any verdict of a staffing is wrong is at most 1 - confidence. A staffing **meets**
the targets when every target is met, **misses** them as soon as one is missed, and is
**undecided** when none is missed but some are still open at ``max`` (it does not count as
meeting: the staffing chosen is a confident one).

The search, with ``assume_monotone`` (more members do not make the KPIs worse on average: an
assumption, see ``docs/staffing.md``):

1. the most generous staffing (every pool at its maximum): if it does not meet the targets, no
   staffing in the bounds does, and the search says so;
2. for each pool, the fewest members that meet the targets with the other pools at their maximum
   (bisection): a staffing with fewer members of that pool cannot meet them either;
3. every staffing below a pool's floor is ruled out without a run; the staffings left are
   simulated in order of cost (then fewer members of the first pools), and the first that meets
   the targets is the cheapest one.

Without ``assume_monotone`` step 3 runs over every staffing in the bounds. The chosen staffing's
neighbours (one member fewer in each pool) are then evaluated too, so that the output shows by
how much each falls short.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executors import Executor, make_executor
from sim.experiments.replications import Replication, Task, collect, replicate
from sim.experiments.staffing_file import StaffingSpec, StaffTarget, load_staffing
from sim.experiments.stats import t_quantile
from sim.kpi_catalogue import is_share
from sim.kpi_catalogue import kpi as catalogue_kpi
from sim.outputs.tables import code_digest, read_table, write_table

MET, MISSED, OPEN = "met", "missed", "open"
MEETS, MISSES, UNDECIDED, RULED_OUT = "meets", "misses", "undecided", "ruled out"

Staffing = tuple[int, ...]
Progress = Callable[[str], None]  # told what is being evaluated


@dataclass(frozen=True)
class Check:
    """One target at one staffing: the mean over ``n`` replications and its one-sided bounds;
    ``open_cases``: the segment's counted cases still open at the end, summed over them."""

    target: StaffTarget
    n: int
    mean: float
    low: float
    high: float
    verdict: str
    open_cases: int = 0

    @property
    def margin(self) -> float:
        """How far the mean is on the good side of the bound (negative: short of it)."""
        t = self.target
        return self.mean - t.bound if t.sense == ">=" else t.bound - self.mean


@dataclass
class Candidate:
    """A staffing, what the search made of it, and (if simulated) its checks and replications."""

    staffing: Staffing
    cost: float
    verdict: str = OPEN
    checks: list[Check] = field(default_factory=list)
    replications: int = 0
    ruled_out_by: str | None = None  # why it was not simulated: below a pool's floor
    role: str = "search"  # corner, bisection, search, neighbour; "" when ruled out


@dataclass
class StaffingResult:
    """The chosen staffing (None if none in the bounds meets the targets), every staffing the
    search looked at, the neighbours of the chosen one, and the replications behind them."""

    spec: StaffingSpec
    chosen: Candidate | None
    candidates: list[Candidate]
    neighbours: list[Candidate]
    kpis: pd.DataFrame
    pools: pd.DataFrame
    computed: int
    reused: int
    seconds: float
    executor: dict
    floors: dict[str, int] = field(default_factory=dict)  # fewest members, the others at maximum
    # the verdict of the staffing just below each floor (misses, or undecided at the most
    # replications: then the floor, and what it rules out, is not confirmed)
    below_floors: dict[str, str] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def of_finished_cases(kpi: str) -> bool:
    """A KPI taken over the finished cases only (a time, procedures or reworks per case): cases
    still open at the end are not in it, so a staffing that leaves cases open cannot meet it."""
    return catalogue_kpi(kpi).unit in ("wd", "cd", "procedures", "reworks") and kpi != "open_age_wd_max"


def judge(values: np.ndarray, target: StaffTarget, level: float, open_cases: int = 0) -> Check:
    """A target's verdict from per-replication values: one-sided bounds at ``level`` (e.g. 0.99).
    A KPI of the finished cases is missed when ``open_cases`` > 0 (some cases never finished) or
    when it is undefined in a replication (no case finished)."""
    values = np.asarray(values, dtype=float)
    if target.kpi == "open_age_wd_max":  # undefined when no case is open: then no case is old
        values = np.nan_to_num(values, nan=0.0)
    n = len(values)
    if n == 0 or np.isnan(values).any():  # no finished case in some replication: not met
        return Check(target, n, math.nan, math.nan, math.nan, MISSED, open_cases)
    mean = float(values.mean())
    spread = float(values.std(ddof=1)) if n > 1 else math.inf
    half = 0.0 if spread == 0 else t_quantile(level, n - 1) * spread / math.sqrt(n)
    low, high = mean - half, mean + half
    if is_share(target.kpi):  # a mean of shares lies in [0, 1]: so does the bound that matters
        low, high = max(low, 0.0), min(high, 1.0)
    if open_cases and of_finished_cases(target.kpi):
        verdict = MISSED
    elif target.sense == ">=":
        verdict = MET if low >= target.bound else MISSED if high < target.bound else OPEN
    else:
        verdict = MET if high <= target.bound else MISSED if low > target.bound else OPEN
    return Check(target, n, mean, low, high, verdict, open_cases)


def test_level(spec: StaffingSpec) -> float:
    """The one-sided level of each test: the confidence shared over targets and looks."""
    return 1 - (1 - spec.confidence) / (len(spec.targets) * spec.replications.looks)


class _Evaluator:
    """Simulates staffings look by look, keeps their replications (and writes them to ``out``)."""

    def __init__(self, spec: StaffingSpec, executor: Executor, out: Path | None, resume: bool, progress):
        self.spec, self.executor, self.out, self.progress = spec, executor, out, progress
        self.resume = resume
        self.kpis: dict[Staffing, list[pd.DataFrame]] = {}
        self.pools: dict[Staffing, list[pd.DataFrame]] = {}
        self.seen: dict[Staffing, Candidate] = {}
        self.computed = self.reused = 0
        self.level = test_level(spec)

    def files(self, staffing: Staffing) -> dict[str, Path]:
        assert self.out is not None
        scenario = self.spec.scenario(staffing)
        digest = code_digest()[:6] + scenario.digest()[:12]
        stem = "-".join(f"{n}" for n in staffing) + "-" + digest
        return {t: self.out / "staffings" / f"{stem}.{t}.parquet" for t in ("kpis", "pools")}

    def _load(self, staffing: Staffing) -> None:
        if staffing in self.kpis:
            return
        self.kpis[staffing], self.pools[staffing] = [], []
        if self.out is not None and self.resume:
            files = self.files(staffing)
            if files["kpis"].exists() and files["pools"].exists():
                kpis, pools = read_table(files["kpis"]), read_table(files["pools"])
                self.kpis[staffing], self.pools[staffing] = [kpis], [pools]
                self.reused += int(kpis["replication"].nunique())

    def replications(self, staffing: Staffing, n: int) -> pd.DataFrame:
        """The kpis rows of replications 0 .. n-1 of ``staffing``, simulating those it lacks."""
        self._load(staffing)
        kpis = pd.concat(self.kpis[staffing], ignore_index=True) if self.kpis[staffing] else None
        have = 0 if kpis is None else int(kpis["replication"].nunique())
        if have < n:
            scenario = self.spec.scenario(staffing)
            tasks = [Task(scenario, r, cases=False) for r in range(have, n)]
            parts: list[Replication] = collect(replicate(tasks, executor=self.executor))
            self.computed += len(parts)
            self.kpis[staffing].append(pd.concat([p.kpis for p in parts], ignore_index=True))
            self.pools[staffing].append(pd.concat([p.pools for p in parts], ignore_index=True))
            if self.out is not None:
                files = self.files(staffing)
                for table, frames in (("kpis", self.kpis), ("pools", self.pools)):
                    whole = pd.concat(frames[staffing], ignore_index=True)
                    write_table(whole, files[table].parent, files[table].name.removesuffix(".parquet"))
            kpis = pd.concat(self.kpis[staffing], ignore_index=True)
        assert kpis is not None
        return kpis[kpis["replication"] < n]

    def evaluate(self, staffing: Staffing, role: str) -> Candidate:
        """The verdict of ``staffing``, adding looks until it is decided or at the maximum."""
        if staffing in self.seen and self.seen[staffing].verdict != RULED_OUT:
            return self.seen[staffing]
        plan = self.spec.replications
        candidate = Candidate(staffing, self.spec.cost(staffing), role=role)
        if self.progress:
            self.progress(self.spec.describe(staffing))
        n = plan.start
        while True:
            kpis = self.replications(staffing, n)
            checks = []
            for target in self.spec.targets:
                rows = kpis[kpis["segment"] == target.segment].sort_values("replication")
                open_cases = int(rows["n_open"].sum())
                checks.append(judge(rows[target.kpi].to_numpy(), target, self.level, open_cases))
            verdicts = {c.verdict for c in checks}
            if MISSED in verdicts or verdicts == {MET} or n >= plan.max:
                break
            n = min(n + plan.step, plan.max)
        candidate.checks, candidate.replications = checks, n
        candidate.verdict = MISSES if MISSED in verdicts else MEETS if verdicts == {MET} else UNDECIDED
        self.seen[staffing] = candidate
        return candidate


def search(
    spec: StaffingSpec,
    out: str | Path | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> StaffingResult:
    """Find the cheapest staffing of ``spec`` that meets its targets (see the module's docstring).
    ``out``: a folder where each staffing's replications are kept as they are computed, so that
    ``resume=True`` reuses them. Replications run on ``executor`` (left open), or on one made of
    ``jobs`` processes or a Dask ``scheduler``."""
    started = time.monotonic()
    pools, bounds = spec.pools, spec.bounds
    ranges = [range(bounds[p][0], bounds[p][1] + 1) for p in pools]
    own = executor is None
    if executor is None:
        executor = make_executor(jobs, scheduler)
    described = executor.describe()
    ev = _Evaluator(spec, executor, Path(out) if out is not None else None, resume, progress)
    try:
        floors: dict[str, int] = {}
        below: dict[str, str] = {}
        chosen = _search(spec, ev, ranges, floors, below)
        neighbours = []
        if chosen is not None:
            for i, pool in enumerate(pools):
                if chosen.staffing[i] > bounds[pool][0]:
                    fewer = chosen.staffing[:i] + (chosen.staffing[i] - 1,) + chosen.staffing[i + 1 :]
                    neighbours.append(ev.evaluate(fewer, "neighbour"))
    finally:
        if own:
            executor.close()
    candidates = sorted(ev.seen.values(), key=lambda c: (c.cost, c.staffing))
    kpis = _tagged(spec, ev.kpis)
    pool_rows = _tagged(spec, ev.pools)
    result = StaffingResult(
        spec, chosen, candidates, neighbours, kpis, pool_rows, ev.computed, ev.reused,
        time.monotonic() - started, described, floors, below,
    )  # fmt: skip
    result.table = staffing_table(result)
    return result


def _search(
    spec: StaffingSpec, ev: _Evaluator, ranges: list[range], floors: dict[str, int], below: dict[str, str]
) -> Candidate | None:
    if spec.assume_monotone:
        top = tuple(r[-1] for r in ranges)
        if ev.evaluate(top, "corner").verdict != MEETS:
            return None
        for i, r in enumerate(ranges):  # the fewest members of pool i, the others at their maximum
            low, high = 0, len(r) - 1  # r[high] meets (the corner); find the first that does
            verdicts = {}
            while low < high:
                mid = (low + high) // 2
                probe = top[:i] + (r[mid],) + top[i + 1 :]
                verdicts[mid] = ev.evaluate(probe, "bisection").verdict
                if verdicts[mid] == MEETS:
                    high = mid
                else:
                    low = mid + 1
            floors[spec.pools[i]] = r[low]
            if low > 0:  # r[low - 1] was probed: low only rises past a probe that did not meet
                below[spec.pools[i]] = verdicts[low - 1]
        for staffing in itertools.product(*ranges):  # below a floor: ruled out without a run
            short = next((p for p, n in zip(spec.pools, staffing) if n < floors[p]), None)
            if short is not None and staffing not in ev.seen:
                reason = f"fewer {short} than {floors[short]}"
                if below.get(short) == UNDECIDED:
                    reason += f" (not confirmed: {floors[short] - 1} with the others at maximum is undecided)"
                ev.seen[staffing] = Candidate(staffing, spec.cost(staffing), RULED_OUT, ruled_out_by=reason)
        ranges = [range(floors[p], r[-1] + 1) for p, r in zip(spec.pools, ranges)]
    for staffing in sorted(itertools.product(*ranges), key=lambda s: (spec.cost(s), s)):
        candidate = ev.evaluate(staffing, "search")
        if candidate.verdict == MEETS:
            return candidate
    return None


def _tagged(spec: StaffingSpec, frames: dict[Staffing, list[pd.DataFrame]]) -> pd.DataFrame:
    """Every staffing's rows in one table, the members of each chosen pool as columns in front."""
    parts = []
    for staffing, pieces in frames.items():
        if pieces:
            table = pd.concat(pieces, ignore_index=True)
            for pool, n in reversed(list(zip(spec.pools, staffing))):
                table.insert(0, pool, n)
            parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def staffing_table(result: StaffingResult) -> pd.DataFrame:
    """One row per staffing the search looked at: its members, cost, verdict, replications and,
    per target, the mean, its one-sided bounds and the verdict."""
    spec = result.spec
    rows = []
    chosen = result.chosen.staffing if result.chosen else None
    for c in result.candidates:
        row: dict[str, Any] = dict(zip(spec.pools, c.staffing))
        row |= {
            "cost": c.cost,
            "verdict": c.verdict,
            "chosen": c.staffing == chosen,
            "role": c.role,
            "replications": c.replications,
            "ruled_out_by": c.ruled_out_by,
        }
        for name, check in zip(target_names(spec), c.checks):
            row |= {
                f"{name}_mean": check.mean,
                f"{name}_low": check.low,
                f"{name}_high": check.high,
                f"{name}_verdict": check.verdict,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def target_names(spec: StaffingSpec) -> list[str]:
    """A column prefix per target: ``lv_smb.on_target_share`` (``#2`` added to a repeated one)."""
    names: list[str] = []
    for i, t in enumerate(spec.targets):
        name = f"{t.segment}.{t.kpi}"
        names.append(name if name not in names else f"{name}#{i}")
    return names


def optimise(
    spec: StaffingSpec | str | Path | Mapping,
    out: str | Path | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    seed: int | None = None,
    progress: Progress | None = None,
) -> StaffingResult:
    """The cheapest staffing that meets the targets of a staffing file (a path, a mapping with the
    same keys, or a loaded ``StaffingSpec``); see ``search`` for the other arguments."""
    if not isinstance(spec, StaffingSpec):
        spec = load_staffing(spec, seed=seed)
    return search(spec, out=out, jobs=jobs, scheduler=scheduler, resume=resume, progress=progress)
