"""When a segment's or a stream's applications arrive: their working times, case 0, 1, 2, ...

Poisson arrivals draw their gaps from the case-keyed streams (purpose ``arrival``); with the
scenario's ``seasonality`` they are a non-homogeneous Poisson process, the unit gaps' sums mapped
through the inverse of the cumulative intensity (``sim.engine.seasons``). ``every`` and ``at`` give
the times themselves. Nothing here runs a case.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from sim.engine.seasons import Intensity
from sim.engine.streams import CaseStreams
from sim.scenario.distributions import Exponential
from sim.scenario.schema import Arrivals


def arrival_times(
    arrivals: Arrivals, key: str, scale: float, streams: CaseStreams, intensity: Intensity | None
) -> Iterator[float] | None:
    """The working times at which the cases 0, 1, 2, ... of ``key`` (a segment or a stream) apply,
    or None if none do: Poisson at the rate times ``scale``, a fixed interval, or given times."""
    if arrivals.at is not None:
        return iter(arrivals.at) if arrivals.at else None
    if arrivals.every is not None:
        step = arrivals.every
        return (step * n for n in itertools.count(1))
    rate = arrivals.rate_per_wd * scale
    if rate <= 0:
        return None
    sample = streams.sample
    if intensity is not None:  # seasonality: invert the cumulative intensity
        unit, invert = Exponential(dist="exponential", mean_=1.0), intensity.invert
        sums = itertools.accumulate(sample(key, "arrival", n, unit) for n in itertools.count())
        return (invert(e / rate) for e in sums)
    gap = Exponential(dist="exponential", mean_=1 / rate)
    return itertools.accumulate(sample(key, "arrival", n, gap) for n in itertools.count())
