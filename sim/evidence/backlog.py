"""The backlog of an event log at a cut-off date: its open cases, each placed in its flow.

A warm start (``sim.engine.backlog``, docs/warm-start.md) begins a run at a cut-off with the cases
of a log that had applied before it and had not finished by it. This module reads them from a
``Log`` (``sim.evidence.log_reading``): the log's events before the cut-off are paired into stage
visits (``sim.evidence.visits``), and each case is placed at its position:

* a case with one stage open at the cut-off is placed in that stage, which it will finish first;
* a case inside a parallel step has one stage open in each branch not yet done: it is placed in
  that step with those stages (a branch without an open stage is over);
* a case in a rework's fix stage is placed at the stage the fix is for (the last it completed
  whose rework names that fix): it will finish the fix, then repeat that stage;
* a case with no stage open is placed at the step after its last completed stage, or is
  *finished* (not in the backlog) when no later step of its flow applies to it;
* a case is *not placed*, and reported with the reason, when its open stages are not one per
  branch of one parallel step, when a stage open is in a parallel step nested in a branch (or a
  fix that fixes nothing it did), when its segment or a stage is not in the scenario, or when
  its log misses a start or a complete.

Its clock charges (each stage opened and closed, by its owner), visits per stage, procedures and
reworks before the cut-off come from the log, in working days and calendar days from the cut-off.
Its attributes are the log's case attributes (``case:NAME`` columns: XES trace attributes) that its
segment declares, read as the segment's distribution says (a flag, a category, a number); those
the log lacks or gives in another form are drawn by the model, and counted here.

A log of several periods (a simulated log with its ``replication``) gives one backlog per period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.backlog import Backlog, Charge, OpenStage, Placed
from sim.engine.calendar import CalendarError, WorkingCalendar
from sim.engine.clocks import CLOSES, OPENS, party_index
from sim.evidence.flows import followers, step_stage
from sim.evidence.log_reading import Log, LogError
from sim.evidence.visits import log_calendar, visits, working_times
from sim.scenario.conditions import holds
from sim.scenario.distributions import Bernoulli, Categorical, Constant
from sim.scenario.schema import ParallelStep, Scenario


@dataclass
class BacklogReading:
    """A log's backlog at ``cut_off``: per period (replication of a simulated log, 0 for a
    utility's log) the cases placed; the cases ``unplaced`` (``period, case, segment, reason``);
    ``drawn``: per attribute, how many placed cases the log gave no usable value of it for (the
    model draws it); ``finished``: cases of the log that had finished by the cut-off."""

    cut_off: date
    backlogs: dict[int, Backlog]
    unplaced: pd.DataFrame
    drawn: dict[str, int] = field(default_factory=dict)
    finished: int = 0

    @property
    def placed(self) -> int:
        return sum(len(b.cases) for b in self.backlogs.values())


Step = tuple[
    str | None, dict | None, list[list[str | None]]
]  # a step: stage (None: parallel), when, branches


def _top_level(scenario: Scenario, steps: list[Any]) -> list[Step]:
    """A flow as the model compiles it (disabled stages left out): per step, its stage (None for a
    parallel step), its condition, and a parallel step's branches, each a list of its stages
    (None for a parallel step nested in it)."""
    out: list[Step] = []
    for step in steps:
        if isinstance(step, ParallelStep):
            branches = [[name for name, _, _ in _top_level(scenario, b)] for b in step.parallel]
            out.append((None, step.when, branches))
        elif (name := step_stage(step)) is not None and scenario.stages[name].enabled:
            out.append((name, getattr(step, "when", None), []))
    return out


def _may_apply(scenario: Scenario, steps: list[Step], attrs: dict[str, Any]) -> bool:
    """Whether any of ``steps`` may still be taken by a case with ``attrs`` (an attribute the log
    does not give: it may)."""
    for name, when, _ in steps:
        try:
            stage_when = scenario.stages[name].when if name is not None else None
            if holds(when, attrs) and holds(stage_when, attrs):
                return True
        except KeyError:
            return True
    return False


def _value(spec: Any, value: Any) -> Any:
    """A logged attribute as the segment's distribution has it, or None when it cannot be read."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(spec, Bernoulli):
        text = str(value).strip().lower()
        return {"true": True, "1": True, "false": False, "0": False}.get(text)
    if isinstance(spec, Categorical):
        return str(value) if str(value) in spec.values else None
    if isinstance(spec, Constant):
        return spec.value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _attributes(scenario: Scenario, segment: str, logged: dict[str, Any], drawn: dict[str, int]) -> dict:
    seg = scenario.segments[segment]
    specs = dict(scenario.streams[seg.arrivals.stream].attributes) if seg.arrivals.stream else {}
    specs.update(seg.attributes)
    attrs = {}
    for name, spec in specs.items():
        value = _value(spec, logged.get(name))
        if value is None:
            drawn[name] = drawn.get(name, 0) + 1
        else:
            attrs[name] = value
    return attrs


def read_backlog(log: Log, scenario: Scenario, cut_off: date) -> BacklogReading:
    """The backlog of ``log`` at 00:00 of ``cut_off``, placed in ``scenario``'s flows (see the
    module doc). A cut-off outside the log's span (after its first day, up to the first working day
    after its last) is a ``LogError``."""
    events = log.events
    first, last = events["timestamp"].min(), events["timestamp"].max()
    try:  # two weeks past the log: its next working day is in them
        calendar = log_calendar(scenario, first, last + pd.Timedelta(days=15))
    except CalendarError as exc:
        raise LogError(f"{log.source}: {exc}") from None
    cut = pd.Timestamp(cut_off)
    earliest = first.normalize() + pd.Timedelta(days=1)
    latest = _next_working_day(calendar, last)
    if not earliest <= cut <= latest:
        raise LogError(
            f"{log.source}: --cut-off {cut_off} is outside the log's span ({first.date()} to "
            f"{last.date()}); give a date from {earliest.date()} to {latest.date()}"
        )
    before = events[events["timestamp"] < cut].reset_index(drop=True)
    w_cut = float(working_times(calendar, pd.Series([cut]))[0])
    cd_cut = (cut - pd.Timestamp(calendar.start)).total_seconds() / 86400.0
    table = visits(before, calendar, followers(scenario))
    for column in ("scheduled_wd", "start_wd", "complete_wd"):
        table[column] -= w_cut
    for column in ("scheduled_cd", "start_cd", "complete_cd"):
        table[column] -= cd_cut
    flows = {name: _top_level(scenario, segment.flow) for name, segment in scenario.segments.items()}
    reading = BacklogReading(cut_off, {}, pd.DataFrame())
    placed: dict[int, list[tuple[float, Placed]]] = {int(p): [] for p in before["period"].unique()}
    unplaced = []
    table["begun_wd"] = table["scheduled_wd"].fillna(table["start_wd"])
    table["begun_cd"] = table["scheduled_cd"].fillna(table["start_cd"])
    table = table.sort_values(["case", "begun_wd", "complete_wd"], kind="stable")
    logged = log.attributes.to_dict("index")
    by_case: dict[str, list[Any]] = {}
    for r in table.itertuples(index=False):
        by_case.setdefault(str(r.case), []).append(r)
    for case, rows in by_case.items():
        period, segment = int(rows[0].period), str(rows[0].segment)
        outcome = _place(scenario, flows, case, segment, rows, logged.get(case, {}), reading.drawn)
        if isinstance(outcome, str):
            unplaced.append((period, case, segment, outcome))
        elif outcome is None:
            reading.finished += 1
        else:
            placed[period].append(outcome)
    reading.backlogs = {
        p: Backlog(tuple(c for _, c in sorted(cases, key=lambda x: x[0])))
        for p, cases in sorted(placed.items())
    }
    reading.unplaced = pd.DataFrame(unplaced, columns=["period", "case", "segment", "reason"])
    return reading


def _next_working_day(calendar: WorkingCalendar, last: pd.Timestamp) -> pd.Timestamp:
    """The first working day after the day of ``last``: the latest cut-off that leaves no working
    day unlogged."""
    day = (last.normalize() - pd.Timestamp(calendar.start)).days + 1
    while not calendar.is_working[day]:
        day += 1
    return pd.Timestamp(calendar.start) + pd.Timedelta(days=day)


def _locate(steps: list[Step], stage: str) -> tuple[int, int | None, int] | None:
    """Where a stage stands in a compiled flow, its first place: (top-level step, branch of a
    parallel step or None, its index in the branch, or the step again); None if nowhere (a fix
    stage, a nested parallel step)."""
    for k, (name, _, branches) in enumerate(steps):
        if name == stage:
            return k, None, k
        for b, branch in enumerate(branches):
            if stage in branch:
                return k, b, branch.index(stage)
    return None


def _fixed_by(scenario: Scenario, rows: list[Any], visit: Any) -> str | None:
    """The stage a visit of a rework's fix stage fixes: the last the case completed before it
    whose rework names that fix (None if none)."""
    fixed = [
        r
        for r in rows
        if r.status == "done"
        and r.complete_wd <= visit.begun_wd
        and (rework := scenario.stages[r.activity].rework) is not None
        and rework.fix == visit.activity
    ]
    return max(fixed, key=lambda r: r.complete_wd).activity if fixed else None


def _place(
    scenario: Scenario,
    flows: dict[str, list[Step]],
    case: str,
    segment: str,
    rows: list[Any],
    logged: dict[str, Any],
    drawn: dict[str, int],
) -> tuple[float, Placed] | str | None:
    """A case placed (with the time it entered its open stage, for the backlog's order), the
    reason it cannot be, or None when it had finished. ``rows``: its visits (``visits``' rows,
    times from the cut-off) in the order it entered them."""
    if segment not in scenario.segments:
        return f"segment '{segment}' is not in the scenario"
    unknown = sorted({r.activity for r in rows} - set(scenario.stages))
    if unknown:
        return f"stage '{unknown[0]}' is not in the scenario"
    if any(r.status in ("missing complete", "missing start") for r in rows):
        return "its log misses a start or a complete of a stage"
    steps = flows[segment]
    flat = {n for name, _, branches in steps for n in [name, *(m for b in branches for m in b)]}
    opened = [r for r in rows if r.status == "open"]
    if opened:
        fixing = [None if r.activity in flat else _fixed_by(scenario, rows, r) for r in opened]
        places = [_locate(steps, f or r.activity) for r, f in zip(opened, fixing)]
        nowhere = [r.activity for r, p in zip(opened, places) if p is None]
        if nowhere:
            return f"stage '{nowhere[0]}' is open in a nested parallel step (or fixes no stage): not followed"
        located = [p for p in places if p is not None]
        branches = [b for _, b, _ in located]
        one_step = len({k for k, _, _ in located}) == 1
        if not one_step or (len(opened) > 1 and (None in branches or len(set(branches)) < len(branches))):
            return "several stages open, not one in each branch of a parallel step"
        step = located[0][0]
    else:
        place = _locate(steps, max(rows, key=lambda r: r.complete_wd).activity)
        if place is None:
            return "its last stage is a rework's fix or in a nested parallel step: not followed"
        step = place[0] + 1  # a parallel step with no stage open is over
        if not _may_apply(scenario, steps[step:], _attributes(scenario, segment, logged, {})):
            return None  # its last stage is done
    attrs = _attributes(scenario, segment, logged, drawn)
    visits_by_stage: dict[str, int] = {}
    for r in rows:
        visits_by_stage[r.activity] = visits_by_stage.get(r.activity, 0) + 1
    procedures = {scenario.stages[r.activity].procedure for r in rows if r.status == "done"} - {None}
    open_stages = []
    for r, (_, branch, index), fixed in zip(opened, located if opened else [], fixing if opened else []):
        attempt = int(r.attempt)
        started = not np.isnan(r.start_wd)
        elapsed_wd = -(r.start_wd if started else r.begun_wd)
        elapsed_cd = -(r.start_cd if started else r.begun_cd)
        open_stages.append(
            OpenStage(r.activity, index, branch, fixed, attempt, started, elapsed_wd, elapsed_cd)
        )
        visits_by_stage[r.activity] = max(visits_by_stage[r.activity], attempt + 1)
    return min((r.begun_wd for r in opened), default=0.0), Placed(
        origin=case,
        segment=segment,
        attrs=tuple(attrs.items()),
        arrival_wd=min(r.begun_wd for r in rows),
        arrival_cd=min(r.begun_cd for r in rows),
        step=step,
        open=tuple(sorted(open_stages, key=lambda o: o.branch or 0)),
        visits=tuple(visits_by_stage.items()),
        procedures=frozenset(str(p) for p in procedures),
        reworks=sum(n - 1 for a, n in visits_by_stage.items() if scenario.stages[a].rework is not None)
        + sum(o.fixing is not None for o in open_stages),  # its stage failed: in its fix
        charges=_charges(scenario, rows),
    )


def _charges(scenario: Scenario, rows: list[Any]) -> tuple[Charge, ...]:
    """Each visit's stage opened (entered) and, if done, closed, by its owner, in time order (at
    one instant, stages close before others open, as the model does); a visit that took no time
    charges nothing."""
    timed = []
    for i, r in enumerate(rows):
        stage = scenario.stages[r.activity]
        party = party_index(stage.owner)
        done = r.status == "done"
        if done and r.complete_wd == r.begun_wd and r.complete_cd == r.begun_cd:
            continue
        timed.append(
            (r.begun_wd, 1, i, Charge(float(r.begun_wd), float(r.begun_cd), party, OPENS, stage.handling))
        )
        if done:
            close = Charge(float(r.complete_wd), float(r.complete_cd), party, CLOSES, stage.handling)
            timed.append((r.complete_wd, 0, i, close))
    return tuple(charge for *_, charge in sorted(timed, key=lambda t: t[:3]))
