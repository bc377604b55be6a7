"""What the base scenario implies where a log is compared with it: a stage's mean service (start
to complete) and its distributions, and whether the log's interval of a stage's mean service holds
the base's (``service_inside``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario.schema import Scenario, Stage


def service_inside(implied: float, how: str, low: float, high: float, censored: int) -> bool | None:
    """Whether the log's 95% interval of a stage's mean service (of its finished visits) holds the
    base's implied mean: None when either is unknown, or when ``censored`` visits had started and
    not finished (the finished ones are then the shorter: their mean is biased low, so the log
    cannot say); for a lower bound (``at least ...``: an effort per pool) only one above the
    interval disagrees."""
    if censored or not (np.isfinite(implied) and np.isfinite(low)):
        return None
    if how.startswith("at least"):
        return bool(implied <= high)
    return bool(low <= implied <= high)


def base_service(base: Scenario, stage: Stage, segments: dict[str, int] | None = None) -> tuple[float, str]:
    """The mean service (start to complete, on the stage's clock) the base scenario implies for a
    stage, and how it is made: its duration's mean; or (effort + travel) / hours per day + lead
    time, with the slowest pool's hours (for an effort per pool, the largest of the pools' means: a
    lower bound of the mean of their maximum). Travel is the mean over the travel attribute's
    categories as the base draws them, for the ``segments`` visiting the stage weighted by their
    visits (NaN where a segment does not draw it from categories); NaN for variants."""
    if stage.variants:
        return np.nan, "variants: the mix of ways is not known"
    if not stage.pool:
        return (stage.duration.mean(), "duration") if stage.duration is not None else (np.nan, "")
    pools = [stage.pool] if isinstance(stage.pool, str) else list(stage.pool)
    hours = {p: base.resources[p].hours_per_day for p in pools}
    travel = travel_mean(base, segments or {}) if stage.site_visit and base.travel is not None else 0.0
    if isinstance(stage.effort, dict):
        work = max((stage.effort[p].mean() + travel) / hours[p] for p in stage.effort)
        how = "at least max((effort + travel) / hours_per_day)"
    else:
        effort = stage.effort.mean() if stage.effort is not None else 0.0
        work, how = (effort + travel) / min(hours.values()), "(effort + travel) / hours_per_day"
    if not stage.site_visit or base.travel is None:
        how = how.replace("(effort + travel)", "effort")
    lead = stage.lead_time.mean() if stage.lead_time is not None else 0.0
    return work + lead, how + (" + lead time" if stage.lead_time is not None else "")


def travel_mean(base: Scenario, segments: dict[str, int]) -> float:
    """Mean travel hours of a site visit: each segment's categories of the travel attribute, weighted."""
    assert base.travel is not None
    means, weights = [], []
    for segment, count in segments.items():
        spec = base.segments[segment].attributes.get(base.travel.attribute)
        values = getattr(spec, "values", None)
        if not isinstance(values, dict):
            return np.nan
        total = sum(values.values())
        hours = base.travel.hours
        means.append(sum(w / total * hours[v].mean() for v, w in values.items() if v in hours))
        weights.append(count)
    return float(np.average(means, weights=weights)) if means else np.nan


def base_distribution(base: Scenario, key: str) -> Any:
    """The base scenario's distribution of a fitted duration or effort (``stages.S.duration``,
    ``stages.S.effort``: the first pool's for an effort per pool), or None."""
    _, name, what = key.split(".")
    value = getattr(base.stages[name], what)
    return next(iter(value.values())) if isinstance(value, dict) else value


def effort_hours_per_day(base: Scenario, stage: Stage) -> float | None:
    """Hours per working day that turn a staffed stage's service into its effort, or None when
    the service is more than the effort (lead time, travel, an effort per pool)."""
    pools = [stage.pool] if isinstance(stage.pool, str) else list(stage.pool)
    if stage.lead_time is not None or (stage.site_visit and base.travel is not None):
        return None
    if isinstance(stage.effort, dict) and len(pools) > 1:
        return None
    return min(base.resources[p].hours_per_day for p in pools)
