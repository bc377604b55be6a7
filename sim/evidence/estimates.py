"""What an event log identifies of a scenario, and the estimates: ``fit_log``.

What a stage's logged times contain decides what can be fitted (``sim.evidence.visits``):

* a stage **without staff** lasts its ``duration`` from ``start`` to ``complete`` (working days, or
  calendar days for ``calendar: calendar``): fitted, open visits censored;
* a stage **with staff** is ``start`` to ``complete`` = effort / hours per day, plus travel on a
  site visit, plus the lead time. When it has no lead time, no travel and one effort, the service
  times the pool's hours per day *is* the effort in hours: fitted. Otherwise effort and lead time
  are not separately identifiable from one start and one complete: the service is reported and
  the base's values kept. The wait from ``schedule`` to ``start`` is the queue, which the model
  produces from capacities and dispatch: reported, never a parameter;
* a stage with **variants** is reported only: the log does not say which way a visit took;
* a **conditional step** ``{stage: S, when: {A: true}}`` on a yes/no attribute ``A`` (bernoulli
  ``p``) identifies ``p`` as the share of finished cases that took S; where ``A`` is drawn only
  when ``B`` holds (``when: {B: true}``) and B gates a step too, among the cases that took that one;
* a stage with **rework**: an attempt that is followed by another attempt of the stage failed; the
  probability is failures over attempts that could fail (not the last allowed one) and whose
  outcome is known (the case went on, or finished);
* **arrivals**: ``sim.evidence.arrivals``.

Every estimate carries its n and a 95% interval; ``FitResult.parameters`` is the table of them
(with the base's value beside each, in the same unit, and whether the interval holds it),
``FitResult.overlay`` what the overlay writes, ``FitResult.agreement`` whether the log agrees with
the base (for the stages it cannot fit too: the base's implied mean service, ``base_service``,
against the log's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.engine.calendar import WorkingCalendar
from sim.evidence.arrivals import YEAR_WD, arrival_rates, monthly_arrivals
from sim.evidence.base_implied import base_distribution, base_service, effort_hours_per_day, service_inside
from sim.evidence.branches import branch_shares
from sim.evidence.fitting import MIN_OBSERVATIONS, DurationFit, fit_duration
from sim.evidence.flows import followers
from sim.evidence.log_reading import Log, LogError
from sim.evidence.visits import case_table, log_calendar, period_ends, visits
from sim.experiments.stats import wilson
from sim.scenario.schema import Scenario, Stage

PARAMETER_COLUMNS = [
    "key", "kind", "unit", "n", "n_censored", "estimate", "ci_low", "ci_high", "base",
    "cv", "cv_low", "cv_high", "base_cv", "family", "ks", "interval", "base_inside",
]  # fmt: skip
UNITS = {"share": "probability", "rework": "probability"}
"""A parameter's unit by kind; a duration's is its clock, an effort's hours, an arrival rate's the
field its key names (``per_year`` or ``per_working_day``, at scale 1)."""
INTERVALS = {"share": "Wilson", "rework": "Wilson", "arrivals": "Garwood (exact Poisson)"}
"""How a parameter's 95% interval is made, by kind; a duration's or effort's: ``DurationFit.interval``."""


SMALL_SAMPLE = 30
"""Fewer observations than this (and at least ``MIN_OBSERVATIONS``): written, flagged as small."""
UNTIMED = {
    "missing complete": "stage visit without its complete while the case went on (not timed)",
    "missing start": "stage visit without its start (not timed)",
}


@dataclass
class FitResult:
    """A log fitted against a base scenario: the estimates, what was skipped and what could not be
    identified."""

    base: Scenario
    log: Log
    rows: list[dict]  # one per estimated parameter (``parameters``)
    stages: pd.DataFrame  # per stage: visits, waits, services, what was fitted or why not
    monthly: pd.DataFrame  # arrivals per segment or stream and month
    durations: dict[str, DurationFit]  # key path -> the duration or effort fit
    overlay: dict[str, tuple[Any, str]]  # key path -> (value, comment)
    skipped: dict[str, int] = field(default_factory=dict)  # rows: used + skipped = rows read
    notes: list[str] = field(default_factory=list)
    untimed: dict[str, int] = field(default_factory=dict)  # visits not timed (pairing)
    used: pd.DataFrame = field(default_factory=pd.DataFrame)  # the events fitted

    def add(
        self, key: str, kind: str, n: int, estimate: float, ci, base: float, family: str, **more: Any
    ) -> None:
        """One estimated parameter: its key path, kind, n, estimate with 95% interval, the base's
        value, the family or model (and for durations n_censored, cv, cv_ci, base_cv, ks; ``unit``
        where the kind does not tell it)."""
        unit = more.pop("unit", UNITS.get(kind, ""))
        row = {"key": key, "kind": kind, "unit": unit, "n": n, "n_censored": 0, "estimate": estimate}
        row["interval"] = more.pop("interval", INTERVALS.get(kind, ""))
        row |= {"ci_low": ci[0], "ci_high": ci[1], "base": base, "family": family}
        if "cv_ci" in more:
            low, high = more.pop("cv_ci")
            row |= {"cv_low": low, "cv_high": high}
        self.rows.append(row | more)

    @property
    def parameters(self) -> pd.DataFrame:
        """The estimates, one row per parameter, with the base scenario's value beside each and
        ``base_inside``: whether the log's 95% interval holds it (empty without an interval)."""
        table = pd.DataFrame(self.rows, columns=PARAMETER_COLUMNS)
        has = table["ci_low"].notna() & table["ci_high"].notna() & table["base"].notna()
        inside = (table["ci_low"] <= table["base"]) & (table["base"] <= table["ci_high"])
        table["base_inside"] = inside.where(has).astype("object").where(has, None)
        return table

    def agreement(self) -> list[str]:
        """Does the log agree with the base? One line on the parameters (the base's values inside
        the log's 95% intervals, and which are outside) and one on the stages the log cannot fit
        (the base's implied mean service inside the 95% interval of the log's)."""
        table = self.parameters
        judged = table[table["base_inside"].notna()]
        outside = judged.loc[judged["base_inside"] == False, "key"].tolist()  # noqa: E712
        lines = [
            f"{len(judged) - len(outside)} of {len(judged)} base values inside the log's 95% intervals "
            f"(chance alone puts about {0.05 * len(judged):.1f} outside, 5%)"
            + (f"; outside: {', '.join(outside)}" if outside else "")
        ]
        stages = self.stages
        if "base_inside" in stages:
            not_fitted = stages[~stages["fitted"].str.startswith(("duration", "effort"))]
            shown = not_fitted[not_fitted["base_inside"].notna()]
            away = shown.loc[shown["base_inside"] == False, "stage"].tolist()  # noqa: E712
            unjudged = not_fitted.loc[not_fitted["base_inside"].isna(), "stage"].tolist()
            lines.append(
                f"stages not fitted: {len(not_fitted)}; of the {len(shown)} compared by mean service, the "
                f"base's implied mean inside the log's 95% interval for {len(shown) - len(away)} (chance "
                f"alone puts about {0.05 * len(shown):.1f} outside)"
                + (f"; outside: {', '.join(away)}" if away else "")
                + (
                    f"; not compared (visits still open, or variants): {', '.join(unjudged)}"
                    if unjudged
                    else ""
                )
            )
        return lines


def _listed(skipped: dict[str, int]) -> str:
    return "; ".join(f"{what}: {n}" for what, n in list(skipped.items())[:3])


def _fmt_ci(ci) -> str:
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]" if ci is not None else "n/a"


def _true_moments(spec) -> tuple[float, float]:
    """Mean and cv of a scenario distribution, by its quantile function on a fine grid."""
    values = np.asarray(spec.ppf((np.arange(200_000) + 0.5) / 200_000), dtype=float)
    mean = float(values.mean())
    return mean, float(values.std() / mean) if mean > 0 else float("nan")


def _stage_times(v: pd.DataFrame, stage: Stage, ends: pd.DataFrame, calendar: WorkingCalendar):
    """Service times of finished visits, censored times of open ones, and (low, high) of finished
    visits known only between two times, in working days (calendar days for a stage that counts
    them).

    The model's clock is working time, so a calendar-day stage that ends during a weekend or a
    holiday is logged at the close of the last working day before it (W⁻¹ gives the earliest
    calendar time of a working time): its true end lies somewhere in that non-working stretch."""
    clock = "cd" if stage.calendar == "calendar" and not stage.pool else "wd"
    done = v[v["status"] == "done"]
    observed = np.maximum((done[f"complete_{clock}"] - done[f"start_{clock}"]).to_numpy(), 0.0)
    still = v[(v["status"] == "open") & v["start_wd"].notna()]
    censored = still["period"].map(ends[clock]).to_numpy() - still[f"start_{clock}"].to_numpy()
    gap = np.zeros(len(observed))
    if clock == "cd" and len(done):
        end = done["complete_cd"].to_numpy()
        day = np.clip(np.rint(end).astype(int), 0, len(calendar.is_working) - 1)
        working_days = np.flatnonzero(calendar.is_working)
        following = working_days[np.minimum(np.searchsorted(working_days, day), len(working_days) - 1)]
        at_close = np.abs(end - day) < 2e-5  # timestamps are to the second
        gap = np.where(at_close & ~calendar.is_working[day], following - day, 0).astype(float)
    exact = gap == 0
    between = (observed[~exact], observed[~exact] + gap[~exact])
    return observed[exact], np.maximum(censored, 0.0), between


def _fit_stage(
    base: Scenario, name: str, stage: Stage, v: pd.DataFrame, ends: pd.DataFrame, result: FitResult,
    calendar: WorkingCalendar,
) -> dict:  # fmt: skip
    done = v[v["status"] == "done"]
    clock = "cd" if stage.calendar == "calendar" and not stage.pool else "wd"
    service = (done[f"complete_{clock}"] - done[f"start_{clock}"]).to_numpy()
    low, high = np.nan, np.nan
    if len(service) > 1:
        half = stats.t.ppf(0.975, len(service) - 1) * service.std(ddof=1) / np.sqrt(len(service))
        low, high = service.mean() - half, service.mean() + half
    implied, how = base_service(base, stage, v.groupby("segment").size().to_dict())
    censored = int(((v["status"] == "open") & v["start_wd"].notna()).sum())
    row: dict[str, Any] = {
        "stage": name,
        "visits": len(v),
        "open": int((v["status"] == "open").sum()),
        "wait_wd_mean": float((done["start_wd"] - done["scheduled_wd"]).mean()) if len(done) else np.nan,
        "service_wd_mean": float((done["complete_wd"] - done["start_wd"]).mean()) if len(done) else np.nan,
        "clock": "calendar days" if clock == "cd" else "working days",
        "service_mean": float(service.mean()) if len(service) else np.nan,
        "service_low": low,
        "service_high": high,
        "base_service_mean": implied,
        "censored": censored,  # started and not finished: the finished visits' mean is biased low
        "base_inside": service_inside(implied, how, low, high, censored),
        "base_service": how,
    }
    if stage.variants:
        row["fitted"] = "not identified: variants (the log does not say which way a visit took)"
        return row
    observed, censored, (low, high) = _stage_times(v, stage, ends, calendar)
    if not stage.pool:
        what, scale = "duration", 1.0
    else:
        hpd = effort_hours_per_day(base, stage)
        if hpd is None:
            row["fitted"] = (
                "not identified: the service (start to complete) is effort / hours_per_day"
                + (" + lead time" if stage.lead_time is not None else "")
                + (" + travel" if stage.site_visit and base.travel is not None else "")
                + "; the base's effort and lead time are kept"
            )
            return row
        what, scale = "effort", hpd
    fit = fit_duration(observed * scale, censored * scale, (low * scale, high * scale))
    if fit is None:
        row["fitted"] = f"too few finished visits ({len(observed)}) to fit the {what}"
        return row
    key = f"stages.{name}.{what}"
    result.durations[key] = fit
    truth = base_distribution(base, key)
    true_mean, true_cv = _true_moments(truth) if truth is not None else (np.nan, np.nan)
    unit = (
        "hours" if what == "effort" else ("calendar days" if stage.calendar == "calendar" else "working days")
    )
    between = f" ({fit.n_between} ended in a non-working stretch)" if fit.n_between else ""
    result.overlay[key] = (
        fit.spec,
        f"fitted: n={fit.n}{between}, open={fit.n_censored}, {fit.family} by AIC={fit.aic[fit.family]:.1f}, "
        f"KS={fit.ks:.3f}, mean={fit.mean:.3g} {_fmt_ci(fit.mean_ci)}, "
        f"cv={fit.cv:.2f} {_fmt_ci(fit.cv_ci)} ({unit}; 95% intervals by {fit.interval})",
    )
    row["fitted"] = f"{what} ({unit}): {fit.family}"
    no_ci = (np.nan, np.nan)
    result.add(
        key, what, fit.n, fit.mean, fit.mean_ci or no_ci, true_mean, fit.family, n_censored=fit.n_censored,
        cv=fit.cv, cv_ci=fit.cv_ci or no_ci, base_cv=true_cv, ks=fit.ks, unit=unit, interval=fit.interval,
    )  # fmt: skip
    return row


def _shares(base: Scenario, v: pd.DataFrame, cases: pd.DataFrame, result: FitResult) -> None:
    for share in branch_shares(base, v, cases):
        p, low, high = share.interval
        result.overlay[share.key] = (
            share.written,
            f"fitted: n={share.trials} {share.among}, {share.successes} took {share.stage}; "
            f"95% Wilson [{low:.3f}, {high:.3f}]",
        )
        result.add(share.key + ".p", "share", share.trials, p, (low, high), share.base, f"took {share.stage}")


def _rework(base: Scenario, v: pd.DataFrame, cases: pd.DataFrame, result: FitResult) -> None:
    open_cases = set(cases.loc[cases["open"], "case"])
    last_event = v.groupby("case")[["scheduled_wd", "start_wd", "complete_wd"]].max().max(axis=1)
    for name, stage in base.stages.items():
        if stage.rework is None or not stage.enabled:
            continue
        visits_of = v[(v["activity"] == name) & (v["status"] == "done")]
        if visits_of.empty:
            continue
        every = v[v["activity"] == name]
        attempts = set(zip(every["case"], every["attempt"]))  # a later attempt, even untimed, tells
        could_fail = visits_of[visits_of["attempt"] < stage.rework.max_attempts - 1]
        pairs = zip(could_fail["case"], could_fail["attempt"])
        failed_arr = np.array([(c, a + 1) in attempts for c, a in pairs], dtype=bool)
        went_on = could_fail["case"].map(last_event).to_numpy() > could_fail["complete_wd"].to_numpy()
        known = failed_arr | went_on | ~could_fail["case"].isin(open_cases).to_numpy()
        k, n = int(failed_arr[known].sum()), int(known.sum())
        if n == 0:
            continue
        p, low, high = wilson(k, n)
        key = f"stages.{name}.rework.probability"
        result.overlay[key] = (
            round(p, 4),
            f"fitted: {k} failures in n={n} attempts that could fail; 95% Wilson [{low:.3f}, {high:.3f}]",
        )
        result.add(key, "rework", n, p, (low, high), stage.rework.probability, "binomial")


def fit_log(log: Log, base: Scenario) -> FitResult:
    """Estimate what ``log`` identifies of the scenario ``base`` (see the module docstring)."""
    events = log.events
    skipped = dict(log.skipped)
    notes = list(log.notes)
    unknown = ~events["activity"].isin(list(base.stages))
    for activity, count in events.loc[unknown, "activity"].value_counts().items():
        skipped[f"unknown activity '{activity}' (not a stage of {base.name})"] = int(count)
    foreign = ~events["segment"].isin(list(base.segments))
    for segment, count in events.loc[foreign & ~unknown, "segment"].value_counts().items():
        skipped[f"unknown segment '{segment}' (not a segment of {base.name})"] = int(count)
    events = events[~unknown & ~foreign]
    if events.empty:
        raise LogError(
            f"{log.source}: no event of a stage and segment of {base.name} "
            f"({_listed(skipped)}); check the log's activities and segments against the scenario"
        )
    calendar = log_calendar(base, events["timestamp"].min(), events["timestamp"].max())
    v = visits(events, calendar, followers(base))
    untimed = {what: int((v["status"] == status).sum()) for status, what in UNTIMED.items()}
    cases = case_table(events, v, calendar)
    ends = period_ends(events, calendar)
    result = FitResult(base, log, [], pd.DataFrame(), pd.DataFrame(), {}, {}, skipped, notes, {}, events)
    result.untimed = {what: count for what, count in untimed.items() if count}
    rows = [
        _fit_stage(base, name, base.stages[name], group, ends, result, calendar)
        for name, group in v.groupby("activity", sort=True)
    ]
    result.stages = pd.DataFrame(rows)
    _shares(base, v, cases, result)
    _rework(base, v, cases, result)
    rates = arrival_rates(cases, base, calendar)
    for r in rates.itertuples(index=False):
        # the table, the console and the overlay all give the rate in its key's unit
        factor, unit = (YEAR_WD, "per year") if r.field == "per_year" else (1.0, "per working day")
        low, high = r.ci_low * factor, r.ci_high * factor
        result.overlay[r.key] = (
            round(float(r.value), 3),
            f"fitted: n={r.n} applications over {r.exposure_wd:.1f} working days (seasonal exposure); "
            f"{r.value:.4g} {unit} at scale 1, 95% Poisson [{low:.4g}, {high:.4g}]",
        )
        result.add(
            r.key, "arrivals", r.n, r.value, (low, high), r.base_rate_wd * factor, "Poisson",
            unit=f"{unit} (scale 1)",
        )  # fmt: skip
    result.monthly = monthly_arrivals(cases, base, calendar, rates)
    _small_samples(result)
    missing = sorted(set(base.segments) - set(cases["segment"]))
    if missing:
        notes.append(f"segments without a case in the log (their arrivals are kept): {', '.join(missing)}")
    return result


def _small_samples(result: FitResult) -> None:
    """One minimum for every estimate, as for a duration's: fewer than ``MIN_OBSERVATIONS`` and it is
    not written (the base's value kept); fewer than ``SMALL_SAMPLE``, written and flagged so."""
    dropped, small = [], []
    for row in list(result.rows):
        key, n = (row["key"].removesuffix(".p") if row["kind"] == "share" else row["key"]), row["n"]
        if n < MIN_OBSERVATIONS:
            result.rows.remove(row)
            result.overlay.pop(key, None)
            dropped.append(f"{row['key']} (n={n})")
        elif n < SMALL_SAMPLE and key in result.overlay:
            value, comment = result.overlay[key]
            result.overlay[key] = (value, f"SMALL SAMPLE (n={n} < {SMALL_SAMPLE}), {comment}")
            small.append(f"{row['key']} (n={n})")
    if dropped:
        result.notes.append(
            f"too few observations (< {MIN_OBSERVATIONS}) to fit, the base's value kept: {', '.join(dropped)}"
        )
    if small:
        result.notes.append(f"small samples (n < {SMALL_SAMPLE}), read with care: {', '.join(small)}")
