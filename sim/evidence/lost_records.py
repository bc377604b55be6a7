"""Likely lost records of a backlog case: a case whose log lost a record is left out of a warm start.

A real log loses events. A lost ``complete`` of a case's last stage makes a case that finished
long ago look open in it; a lost ``complete`` or ``start`` of an earlier stage leaves a visit that
cannot be timed. Warm-starting such a case would charge it the months since (its stage, already
older than it can be, ends at the cut-off). A case not finished by the cut-off is taken as a
likely lost record, left out and reported (``not_placed``), when:

* **it went on**: a visit lacks its ``complete`` while the case visited a stage that follows it
  (``sim.evidence.visits``: status ``missing complete``);
* **a visit lacks its start**: it has a ``complete`` but neither ``schedule`` nor ``start``, so
  when the case entered the stage is unknown;
* **a visit is too old**: a stage open at the cut-off has run longer than the scenario lets it
  last: beyond the ``QUANTILE`` (99.999%) quantile of its duration (a stage without staff; in
  calendar days for a ``calendar`` stage), or, for a stage with staff that had started, of its
  work (each pool's effort, plus the longest travel of a site visit, over its hours per day) plus
  its lead time, each at that quantile, summed over the pools. The longest over the stage's
  variants is taken. The quantile is high because an open visit's age is length-biased: the share
  of the scenario's own open visits older than the q-quantile of the duration D is
  E[(D - x_q)+] / E[D], which is 1 - q (1 in 100,000) for an exponential duration but more for a
  long-tailed one: about 5e-5, 4e-4 and 1e-3 for a lognormal of cv 1, 2 and 3.

A visit entered but not started at a stage whose pools all have no capacity limit (or a stage
without staff) cannot be waiting: nothing is there to wait for. Its start is taken as lost: it is
timed from its ``schedule`` (``queues``; ``sim.evidence.backlog`` resumes it as started) and judged
by the rule above. A visit that can wait (a pool with a capacity) is judged by a generous bound of
its wait: **waiting too long** when it has waited more than ``WAIT_FACTOR`` (10) times the longest
the stage lasts once started (a queue where each case waits ten of the longest services of the
stage is taken for a lost record, not for a queue).

A case with no stage open whose flow is not over (by the log, between two stages) has **stalled**
when its last completion lies more than ``STALL_WD`` (2) working days before the cut-off: the
model enters the next stage the instant the last one completes, so the next stage's records were
lost (a case whose whole last stage is missing from the log, say).

Finished cases (``sim.evidence.backlog``) are never judged: whatever their faults, they are over.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario.schema import Scenario

QUANTILE = 0.99999
WENT_ON = "likely lost record: a stage lacks its complete, yet the case went on"
NO_START = "likely lost record: a stage lacks its start"
TOO_OLD = "likely lost record: a stage open longer than the scenario lets it last"
WAITED = "likely lost record: a stage waited for longer than the scenario plausibly lets it wait"
STALLED = "likely lost record: nothing logged since a stage completed, though its flow goes on"
STALL_WD = 2.0
"""A case with no stage open, its last completion more than this many working days before the
cut-off and its flow not over, lost the records of its next stage (the model enters the next stage
the instant the last one completes; the margin allows for a log cut within a day)."""
WAIT_FACTOR = 10.0
"""A visit waiting for staff longer than this many times its stage's ``longest`` is a lost record."""
LOST = "likely lost record"
"""The beginning of every reason of this module (``not_placed``'s ``reason``)."""


def _quantile(spec: Any) -> float:
    if spec is None:
        return 0.0
    return float(np.asarray(spec.ppf(np.array([QUANTILE])), dtype=float)[0])


def longest(scenario: Scenario, name: str) -> float:
    """The longest a visit of stage ``name`` can last by the scenario, once started (see the
    module doc): working days, or calendar days for a stage without staff on the calendar."""
    stage = scenario.stages[name]
    travel = scenario.travel
    trip = max((_quantile(d) for d in travel.hours.values()), default=0.0) if travel is not None else 0.0
    out = 0.0
    for way in [stage.way(), *(stage.way(v) for v in stage.variants)]:
        if not way.pools:
            out = max(out, _quantile(way.duration))
            continue
        extra = trip if way.site_visit else 0.0
        efforts = way.effort if isinstance(way.effort, dict) else dict.fromkeys(way.pools, way.effort)
        work = sum(
            (_quantile(efforts.get(pool)) + extra) / scenario.resources[pool].hours_per_day
            for pool in way.pools
        )
        out = max(out, work + _quantile(way.lead_time))
    return out


def staffed(scenario: Scenario, name: str) -> bool:
    stage = scenario.stages[name]
    return any(w.pools for w in [stage.way(), *(stage.way(v) for v in stage.variants)])


def queues(scenario: Scenario, name: str) -> bool:
    """Whether a visit of stage ``name`` can wait for staff: one of its pools has a capacity."""
    stage = scenario.stages[name]
    ways = [stage.way(), *(stage.way(v) for v in stage.variants)]
    return any(scenario.resources[p].capacity is not None for w in ways for p in w.pools)


def lost_record(scenario: Scenario, rows: list[Any]) -> tuple[str, str] | None:
    """(reason, detail) when a case not finished by the cut-off likely lost a record (see the
    module doc), else None. ``rows``: its visits (``visits``' rows, times from the cut-off, with
    ``begun_wd`` and ``begun_cd``: when it entered the stage)."""
    for r in rows:
        if r.status == "missing complete":
            return WENT_ON, f"'{r.activity}' attempt {int(r.attempt)}"
        if r.status == "missing start" and np.isnan(r.begun_wd):
            return NO_START, f"'{r.activity}' attempt {int(r.attempt)}"
    for r in rows:
        if r.status != "open":
            continue
        started = not np.isnan(r.start_wd)
        if not started and queues(scenario, r.activity):  # waiting for staff: a bound of its wait
            age, bound = -r.begun_wd, WAIT_FACTOR * longest(scenario, r.activity)
            if age > bound:
                return WAITED, f"'{r.activity}' waiting {age:.1f} wd, at most {bound:.1f} taken as plausible"
            continue
        on_calendar = not staffed(scenario, r.activity) and scenario.stages[r.activity].calendar == "calendar"
        age = (
            -(r.start_cd if started else r.begun_cd)
            if on_calendar
            else -(r.start_wd if started else r.begun_wd)
        )
        bound = longest(scenario, r.activity)
        if age > bound:
            unit = "calendar days" if on_calendar else "wd"
            return TOO_OLD, f"'{r.activity}' open {age:.1f} {unit}, at most {bound:.1f} by the scenario"
    done = [r for r in rows if not np.isnan(r.complete_wd)]
    if done and not any(r.status == "open" for r in rows):  # between two stages, by the log
        last = max(done, key=lambda r: r.complete_wd)
        if -last.complete_wd > STALL_WD:
            return STALLED, f"'{last.activity}' completed {-last.complete_wd:.1f} wd before the cut-off"
    return None
