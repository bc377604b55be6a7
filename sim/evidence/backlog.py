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
* a case with no stage open is placed at the step after its last completed stage;
* a case is *finished* (not in the backlog, whatever faults its log has) when nothing began after
  its last completed visit and no later step of its flow applies to it;
* a case not finished is left out as a *likely lost record* (``sim.evidence.lost_records``) when
  a visit lacks its complete though the case went on, lacks its start and schedule, or is open
  longer than the scenario lets its stage last;
* a case is *not placed*, and reported with the reason, when its open stages are not one per
  branch of one parallel step, when a stage open is in a parallel step nested in a branch (or a
  fix that fixes nothing it did), or when its segment is not in the scenario.

Events of activities that are not stages of the scenario are left out and counted, as ``fit``
does. A visit with its schedule and complete but not its start is timed (it was entered at its
schedule).

Its clock charges (each stage opened and closed, by its owner), visits per stage, procedures and
reworks before the cut-off come from the log, in working days and calendar days from the cut-off.
Its attributes are the log's case attributes where it gives them, else inferred from the steps it
took or went past (``sim.evidence.case_attributes``); the rest are drawn by the model, and counted.

A log of several periods (a simulated log with its ``replication``) gives one backlog per period
(those asked for); the cut-off must lie in each period's span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.backlog import Backlog, Charge, OpenStage, Placed
from sim.engine.calendar import CalendarError, WorkingCalendar
from sim.engine.clocks import CLOSES, OPENS, party_index
from sim.evidence.case_attributes import CaseAttributes, case_attributes
from sim.evidence.flows import FlowStep, followers, locate, may_apply, top_level
from sim.evidence.log_reading import Log, LogError
from sim.evidence.lost_records import LOST, lost_record, queues
from sim.evidence.visits import log_calendar, visits, working_times
from sim.scenario.schema import Scenario


@dataclass
class BacklogReading:
    """A log's backlog at ``cut_off``, over the log's ``periods`` read (replications of a simulated
    log, 0 for a utility's log): per period the cases placed; the cases ``unplaced`` (``period,
    case, segment, reason, detail``: likely lost records among them; ``case``: ``log/`` and its id
    in the log, as the cases table names a warm-started case); ``drawn`` and ``inferred``:
    per attribute, for how many placed cases the model draws it (neither logged nor inferred) and
    for how many it was inferred from the path (``sim.evidence.case_attributes``); ``finished``:
    cases of the log that had finished by the cut-off (whatever their faults); ``skipped``: events
    left out, by reason, as ``fit`` counts them: the rows the log's reading dropped (duplicated,
    without a time, ...: over the whole log), and the unknown activities before the cut-off."""

    cut_off: date
    backlogs: dict[int, Backlog]
    unplaced: pd.DataFrame
    drawn: dict[str, int] = field(default_factory=dict)
    finished: int = 0
    inferred: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    logged: dict[str, int] = field(default_factory=dict)
    """Per attribute, for how many placed cases the log gave it (``case:NAME``, XES)."""
    periods: tuple[int, ...] = ()
    log_periods: int = 1
    runs: tuple[int, ...] = ()
    """The period each replication run starts from (``sim.experiments.warm_start``): its own of a
    log of several, else the log's one period in each."""

    @property
    def placed(self) -> int:
        """Cases placed in the log's backlogs read (one per period read)."""
        return sum(len(b.cases) for b in self.backlogs.values())

    @property
    def warm_started(self) -> int:
        """Cases warm-started over the replications run: the cases table's ``warm_started`` rows
        (``placed`` before the replications are known)."""
        return sum(self.per_replication()) if self.runs else self.placed

    def per_replication(self) -> list[int]:
        """Cases warm-started in each replication run."""
        return [len(self.backlogs[p].cases) for p in self.runs]

    @property
    def lost(self) -> int:
        """Cases left out as likely lost records (``sim.evidence.lost_records``)."""
        return int(self.unplaced["reason"].str.startswith(LOST).sum()) if len(self.unplaced) else 0

    def by_segment(self, runs: bool = True) -> pd.Series:
        """Cases warm-started per segment over the replications run (the cases table's rows), or
        (``runs`` false, or before they are known) placed in the backlogs read."""
        backlogs = [self.backlogs[p] for p in self.runs] if runs and self.runs else self.backlogs.values()
        segments = [c.segment for b in backlogs for c in b.cases]
        return pd.Series(segments, dtype=object).value_counts().sort_index()


LOG = "log/"
"""The prefix of a log's case in ``unplaced`` (its id in the log), as the cases table has it."""


def read_backlog(
    log: Log,
    scenario: Scenario,
    cut_off: date,
    periods: Sequence[int] | None = None,
    placed_in: Scenario | None = None,
) -> BacklogReading:
    """The backlog of ``log`` at 00:00 of ``cut_off``, placed in ``scenario``'s flows (see the
    module doc), from the log's ``periods`` (default: all). A cut-off outside a period's span
    (after its first day, up to the first working day after its last event) is a ``LogError``.
    ``placed_in``: the scenario whose stages and flows the cases are placed in, when they are not
    ``scenario``'s own (its dated measures in force at the cut-off: the warm run walks those);
    the log's times are read with ``scenario``'s calendar either way."""
    events = log.events
    if periods is not None:
        events = events[events["period"].isin(list(periods))]
    first, last = events["timestamp"].min(), events["timestamp"].max()
    try:  # two weeks past the log: its next working day is in them
        calendar = log_calendar(scenario, first, last + pd.Timedelta(days=15))
    except CalendarError as exc:
        raise LogError(f"{log.source}: {exc}") from None
    cut = pd.Timestamp(cut_off)
    _check_cut_off(log.source, events, calendar, cut, log.events["period"].nunique() > 1)
    before = events[events["timestamp"] < cut]
    scenario = placed_in if placed_in is not None else scenario
    unknown = ~before["activity"].isin(list(scenario.stages))
    skipped = {f"{reason} (over the whole log, as read)": int(n) for reason, n in log.skipped.items()}
    skipped.update(
        (f"unknown activity '{a}' (not a stage of {scenario.name})", int(n))
        for a, n in before.loc[unknown, "activity"].value_counts().items()
    )
    before = before[~unknown].reset_index(drop=True)
    w_cut = float(working_times(calendar, pd.Series([cut]))[0])
    cd_cut = (cut - pd.Timestamp(calendar.start)).total_seconds() / 86400.0
    after = followers(scenario)
    table = visits(before, calendar, after)
    for column in ("scheduled_wd", "start_wd", "complete_wd"):
        table[column] -= w_cut
    for column in ("scheduled_cd", "start_cd", "complete_cd"):
        table[column] -= cd_cut
    flows = {name: top_level(scenario, segment.flow) for name, segment in scenario.segments.items()}
    used = tuple(sorted(int(p) for p in events["period"].unique()))
    reading = BacklogReading(cut_off, {}, pd.DataFrame(), skipped=skipped, periods=used)
    reading.log_periods = int(log.events["period"].nunique())
    placed: dict[int, list[tuple[float, Placed]]] = {p: [] for p in used}
    unplaced = []
    table["begun_wd"] = table["scheduled_wd"].fillna(table["start_wd"])
    table["begun_cd"] = table["scheduled_cd"].fillna(table["start_cd"])
    timed = (table["status"] == "missing start") & table["begun_wd"].notna()
    table.loc[timed, "status"] = "done"  # its schedule says when it was entered: it is timed
    table = table.sort_values(["case", "begun_wd", "complete_wd"], kind="stable")
    logged = log.attributes.to_dict("index")
    by_case: dict[str, list[Any]] = {}
    for r in table.itertuples(index=False):
        by_case.setdefault(str(r.case), []).append(r)
    for case, rows in by_case.items():
        period, segment = int(rows[0].period), str(rows[0].segment)
        if segment not in scenario.segments:
            unplaced.append((period, LOG + case, segment, f"segment '{segment}' is not in the scenario", ""))
            continue
        outcome = _place(scenario, flows[segment], after, case, segment, rows, logged.get(case, {}))
        if outcome is None:
            reading.finished += 1
        elif isinstance(outcome[1], str):
            unplaced.append((period, LOG + case, segment, *outcome))
        else:
            order, one, attrs = outcome
            placed[period].append((order, one))
            for name in attrs.drawn:
                reading.drawn[name] = reading.drawn.get(name, 0) + 1
            for name in attrs.inferred:
                reading.inferred[name] = reading.inferred.get(name, 0) + 1
            for name in attrs.logged:
                reading.logged[name] = reading.logged.get(name, 0) + 1
    reading.backlogs = {
        p: Backlog(tuple(c for _, c in sorted(cases, key=lambda x: x[0])))
        for p, cases in sorted(placed.items())
    }
    reading.unplaced = pd.DataFrame(unplaced, columns=["period", "case", "segment", "reason", "detail"])
    return reading


def _check_cut_off(
    source: str, events: pd.DataFrame, calendar: WorkingCalendar, cut: pd.Timestamp, several: bool
) -> None:
    """The cut-off must lie in every period's span: after its first day, at most on the first
    working day after its last event (no working day unlogged); else a one-line ``LogError``
    naming the period (a replication of the log) and the dates every period read allows."""
    spans = events.groupby("period")["timestamp"].agg(["min", "max"])
    earliest = {p: lo.normalize() + pd.Timedelta(days=1) for p, lo in spans["min"].items()}
    latest = {p: _next_working_day(calendar, hi) for p, hi in spans["max"].items()}
    first, last_day = max(earliest.values()), min(latest.values())
    if first > last_day:  # the replications read do not overlap in time: no one cut-off fits all
        allowed = "no one cut-off lies in every replication read; read fewer with --reps"
    else:
        allowed = f"give a date from {first.date()} to {last_day.date()}"
    for p, (lo, hi) in spans.iterrows():
        if not earliest[p] <= cut <= latest[p]:
            where = f"the span of the log's replication {int(p)}" if several else "the log's span"
            last = ", its last event" if several else ""
            raise LogError(
                f"{source}: --cut-off {cut.date()} is outside {where} ({lo.date()} to {hi.date()}{last}); "
                f"{allowed}"
            )


def _next_working_day(calendar: WorkingCalendar, last: pd.Timestamp) -> pd.Timestamp:
    """The first working day after the day of ``last``: the latest cut-off that leaves no working
    day unlogged."""
    day = (last.normalize() - pd.Timestamp(calendar.start)).days + 1
    while not calendar.is_working[day]:
        day += 1
    return pd.Timestamp(calendar.start) + pd.Timedelta(days=day)


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


def _evidence(
    scenario: Scenario, segment: str, steps: list[FlowStep], after: dict, rows: list[Any]
) -> list[tuple[dict, bool]]:
    """What a case's path says of its conditional steps: (condition, held) for each it took (it
    held) or went past without taking (it did not): ``sim.evidence.case_attributes``."""
    visited = {r.activity for r in rows}
    names = [n for name, _, branches in steps for n in [name, *(m for b in branches for m in b)]]
    whens = {name: when for name, when, _ in steps if name is not None}
    out = []
    for name in dict.fromkeys(n for n in names if n is not None):
        parts = [c for c in (whens.get(name), scenario.stages[name].when) if c is not None]
        if not parts:
            continue
        condition = parts[0] if len(parts) == 1 else {"all": parts}
        if name in visited:
            out.append((condition, True))
        elif visited & set(after.get((segment, name), ())):
            out.append((condition, False))
    return out


def _finished(scenario: Scenario, steps: list[FlowStep], rows: list[Any], attrs: dict[str, Any]) -> bool:
    """Whether a case had finished by the cut-off: nothing began after its last completed visit,
    no visit of its step or a later one is still open (a parallel branch), and no later step of
    its flow applies to it (whatever faults its log has before)."""
    timed = [r for r in rows if not np.isnan(r.complete_wd)]
    if not timed:
        return False
    last = max(timed, key=lambda r: (r.complete_wd, r.begun_wd))
    if any(r is not last and r.begun_wd >= last.complete_wd for r in rows):
        return False
    place = locate(steps, last.activity)
    if place is None:
        return False
    for r in rows:  # a branch still open beside the last one completed (a parallel step)
        where = locate(steps, r.activity) if r.status == "open" else None
        if where is not None and where[0] >= place[0]:
            return False
    return not may_apply(scenario, steps[place[0] + 1 :], attrs)


def _place(
    scenario: Scenario,
    steps: list[FlowStep],
    after: dict,
    case: str,
    segment: str,
    rows: list[Any],
    logged: dict[str, Any],
) -> tuple[float, Placed, CaseAttributes] | tuple[str, str] | None:
    """A case placed (with the time it entered its open stage, for the backlog's order, and its
    attributes), the reason it cannot be and its detail, or None when it had finished. ``rows``:
    its visits (``visits``' rows, times from the cut-off) in the order it entered them."""
    path = _evidence(scenario, segment, steps, after, rows)
    known = case_attributes(scenario, segment, logged, path)
    if _finished(scenario, steps, rows, known.values):
        return None
    lost = lost_record(scenario, rows)
    if lost is not None:
        return lost
    flat = {n for name, _, branches in steps for n in [name, *(m for b in branches for m in b)]}
    opened = [r for r in rows if r.status == "open"]
    if opened:
        fixing = [None if r.activity in flat else _fixed_by(scenario, rows, r) for r in opened]
        places = [locate(steps, f or r.activity) for r, f in zip(opened, fixing)]
        nowhere = [r.activity for r, p in zip(opened, places) if p is None]
        if nowhere:
            return (
                "a stage open in a nested parallel step (or a fix that fixes no stage): not followed",
                f"'{nowhere[0]}'",
            )
        located = [p for p in places if p is not None]
        branches = [b for _, b, _ in located]
        one_step = len({k for k, _, _ in located}) == 1
        if not one_step or (len(opened) > 1 and (None in branches or len(set(branches)) < len(branches))):
            return "several stages open, not one in each branch of a parallel step", ""
        step = located[0][0]
    else:
        place = locate(steps, max(rows, key=lambda r: r.complete_wd).activity)
        if place is None:
            return "its last stage is a rework's fix or in a nested parallel step: not followed", ""
        step = place[0] + 1  # a parallel step with no stage open is over
    attrs = known.values
    visits_by_stage: dict[str, int] = {}
    for r in rows:
        visits_by_stage[r.activity] = visits_by_stage.get(r.activity, 0) + 1
    procedures = {scenario.stages[r.activity].procedure for r in rows if r.status == "done"} - {None}
    open_stages = []
    for r, (_, branch, index), fixed in zip(opened, located if opened else [], fixing if opened else []):
        attempt = int(r.attempt)
        # with nothing to wait for (no pool with a capacity), it had started: timed from its entry
        started = not np.isnan(r.start_wd) or not queues(scenario, r.activity)
        elapsed_wd = -(r.begun_wd if np.isnan(r.start_wd) else r.start_wd)
        elapsed_cd = -(r.begun_cd if np.isnan(r.start_cd) else r.start_cd)
        open_stages.append(
            OpenStage(r.activity, index, branch, fixed, attempt, started, elapsed_wd, elapsed_cd)
        )
        visits_by_stage[r.activity] = max(visits_by_stage[r.activity], attempt + 1)
    placed = Placed(
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
        path=tuple(path),
    )
    return min((r.begun_wd for r in opened), default=0.0), placed, known


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
