"""A case in progress as the model walks it (``Case``), and the stand-in environment of a case
computed at its application (``Ahead``), and the delay after which SimPy's clock reads a time
exactly (``delay_until``): see ``sim.engine.model``."""

from __future__ import annotations

import math
from typing import Any

from sim.engine.clocks import CaseClock
from sim.engine.units import Unit


class Case:
    """A case in progress: its attributes, its clocks, and what it went through so far."""

    __slots__ = (
        "arrival",
        "attrs",
        "clock",
        "counted",
        "deadline",
        "env",
        "key",
        "number",
        "observed",
        "procedures",
        "reworks",
        "segment",
        "unit",
        "visits",
    )

    def __init__(
        self,
        unit: Unit,
        number: int,
        segment: str,
        attrs: dict[str, Any],
        counted: bool,
        arrival: float,
        deadline: float,
        key: str | None = None,
        env: Any = None,
    ):
        self.env = env  # the run's environment, or ``Ahead`` for a case computed at its application
        self.unit = unit  # its company's (or the district's) streams, pools, stock and records
        self.number = number
        self.deadline = deadline
        self.key = segment if key is None else key  # its random numbers: its segment's, or its stream's
        self.segment = segment
        self.attrs = attrs
        self.counted = counted
        self.arrival = arrival
        self.clock = CaseClock(arrival)
        self.visits: dict[str, int] = {}
        self.procedures: set[str] = set()
        self.reworks = 0
        self.observed: Any = None  # a warm-started case's past (``sim.engine.backlog.Placed``)


class Ahead:
    """The environment of a case computed at its application: its flow touches no pool with a
    capacity, no stock and no parallel branches, so it never waits for another case and its
    times follow from its own draws (``sim.engine.plans.independent``). It walks the same code
    as every case; a wait is only its length, and ``now`` is the time of its application."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0

    @staticmethod
    def timeout(days: float) -> float:
        return days


def delay_until(now: float, t: float) -> float:
    """The delay after which SimPy's clock, at ``now``, reads ``t`` exactly (its own sum
    ``now + delay``; ``t - now`` can be a rounding off when ``t`` is more than twice ``now``), if
    one does: else the longest that stops short of ``t`` (``toward`` gets there in two)."""
    delay = t - now
    while now + delay < t:
        delay = math.nextafter(delay, math.inf)
    while now + delay > t:
        delay = math.nextafter(delay, -math.inf)
    return delay


def toward(now: float, t: float) -> float:
    """The next delay on the way from ``now`` to ``t``: one after which SimPy's clock reads ``t``
    exactly; or, where no delay does (some ``t`` more than twice ``now``: the sums round past
    it), one to three quarters of the way, from where the clock reaches ``t`` exactly (``t``
    minus a time between half ``t`` and ``t`` is exact)."""
    delay = delay_until(now, t)
    return delay if now + delay == t else delay_until(now, 0.75 * t)
