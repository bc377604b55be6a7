"""The folder ``fit`` writes: the overlay, the report, the tables and a figure per fitted stage.

``write_fit`` writes ``fitted.yaml`` (the scenario overlay, ``sim.evidence.overlay``), ``report.md``
(what was read and skipped, every estimate with its n, interval and the base's value, what each
stage's log identifies or why not, arrivals per month), the ``parameters``, ``stages``,
``monthly`` and ``qq`` (QQ data of every fitted distribution) tables, one figure per fitted
duration or effort (``fit-STAGE.png``: the empirical distribution, Kaplan-Meier where visits are
open, against the fitted CDF and the base's, and the QQ plot), and ``manifest.json``; and for
``fit --round-trip`` the round trip's report and tables (``write_round_trip``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.estimates import FitResult, base_distribution
from sim.evidence.fitting import DurationFit, kaplan_meier
from sim.evidence.overlay import overlay_text
from sim.evidence.round_trip import RoundTrip
from sim.outputs.tables import save_figure, write_manifest, write_table, write_text


def fit_figure(key: str, fit: DurationFit, base=None, clock: str = "working days"):
    """Empirical (Kaplan-Meier) vs fitted vs the base scenario's CDF (``base``: its distribution,
    drawn from its quantile function), and the QQ plot of the fitted and the base's quantiles
    against the log's, of one fitted duration or effort; ``clock``: a duration's unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    unit = "hours" if key.endswith(".effort") else clock
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    times, km = kaplan_meier(fit.observed, fit.censored)
    left.step(np.r_[0.0, times], np.r_[0.0, km], where="post", label="log (Kaplan-Meier)", color="black")
    grid = np.linspace(0.0, float(times.max()) * 1.05, 400)
    left.plot(grid, fit.cdf(grid), label=f"fitted {fit.family}", color="tab:red")
    levels = np.linspace(0.0005, 0.9995, 400)
    if base is not None:
        left.plot(base.ppf(levels), levels, label=f"base {base.dist}", color="tab:green", linestyle="--")
    left.set_xlabel(unit)
    left.set_ylabel("share of visits finished")
    left.legend(loc="lower right")
    left.set_title("cumulative distribution")
    qq = fit.qq
    right.scatter(qq["fitted"], qq["empirical"], s=8, color="tab:red", label="fitted")
    top = float(max(qq["fitted"].max(), qq["empirical"].max()))
    if base is not None:
        on_base = np.asarray(base.ppf(qq["probability"].to_numpy()), dtype=float)
        right.scatter(on_base, qq["empirical"], s=8, color="tab:green", marker="x", label="base")
        top = max(top, float(on_base.max()))
    right.plot([0, top], [0, top], color="grey", linewidth=1, label="equal")
    right.set_xlabel(f"fitted or base quantile ({unit})")
    right.set_ylabel(f"log quantile ({unit})")
    right.legend(loc="upper left")
    right.set_title("QQ")
    fig.suptitle(
        f"{key}: n={fit.n} finished, {fit.n_censored} open; {fit.family} by AIC, KS={fit.ks:.3f}",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def _number(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


def _markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_number(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def report_text(result: FitResult, figures: list[str]) -> str:
    """``report.md``: the fit in words and tables."""
    log, base, events = result.log, result.base, result.used
    lines = [
        f"# Fit of {base.name} to the event log {log.source}",
        "",
        f"{log.rows_read} rows read: {len(events)} events of {events['case'].nunique()} cases used "
        f"({events['period'].nunique()} period(s)), {sum(result.skipped.values())} rows skipped. Durations "
        "are in working days through the working-day calendar (calendar days for stages that count "
        "them), efforts in hours.",
        "",
        "## Skipped",
        "",
    ]
    if result.skipped:
        lines += [_markdown(pd.DataFrame(list(result.skipped.items()), columns=["what", "rows"])), ""]
    if result.untimed:
        lines += [_markdown(pd.DataFrame(list(result.untimed.items()), columns=["what", "visits"])), ""]
    if not (result.skipped or result.untimed):
        lines += ["No row skipped, every visit timed.", ""]
    if result.notes:
        lines += ["Notes:", "", *[f"- {note}" for note in result.notes], ""]
    parameters = result.parameters.drop(columns=["cv_low", "cv_high"])
    lines += [
        "## Does the log agree with the base?",
        "",
        *[f"- {line}" for line in result.agreement()],
        "",
        "`base_inside` below: the base's value inside the log's 95% interval. A stage the log cannot "
        "fit is compared by its mean service: the base's implied one (`base_service_mean`, made as "
        "`base_service` says) against the 95% t-interval of the log's finished visits "
        "(`service_low`-`service_high`, on the stage's clock); not compared where visits had started "
        "and not finished by the log's end (`censored`: the finished ones are the shorter, their mean "
        "biased low), and a lower bound (`at least ...`) only disagrees above the interval. The "
        "figures draw the base's "
        "distribution beside the log's and the fitted one.",
        "",
    ]
    lines += [
        "## Fitted parameters",
        "",
        "`estimate` is a duration's or effort's mean, a share's or rework's probability, an arrival "
        "rate in the unit of its key (`per_year` or `per_working_day`, at scale 1), as `unit` says; "
        "`ci_low`-`ci_high` its 95% interval, made as `interval` says (the delta method on the observed "
        "information, a bootstrap of the visits for triangular and uniform fits, Wilson, Garwood); "
        "`base` the base scenario's value in the same unit. The overlay `fitted.yaml` writes them.",
        "",
        _markdown(parameters),
        "",
        "## Stages: what the log identifies",
        "",
        "`wait` is schedule to start (the queue, produced by the model from capacities: never a "
        "parameter), `service` start to complete, means in working days over finished visits.",
        "",
        _markdown(result.stages),
        "",
        "## Arrivals per month",
        "",
        "Applications per month against the fitted rate and the base scenario's seasonal profile "
        "(`expected`): a check of the profile, not a fit of it. `n`, `working_days_over_periods` and "
        "`expected` are summed over the `periods` (replications) whose window covers part of the month; "
        "`rate_wd` is per working day of one period.",
        "",
        _markdown(result.monthly),
        "",
        "## Figures",
        "",
    ]
    lines += [f"![{name}]({name})" for name in figures] or ["No duration or effort was fitted."]
    return "\n".join(lines) + "\n"


def _qq_table(result: FitResult) -> pd.DataFrame:
    """The QQ data of every fitted duration or effort: probability, log and fitted quantiles."""
    parts = [fit.qq.assign(key=key) for key, fit in result.durations.items()]
    columns = ["key", "probability", "empirical", "fitted"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def write_fit(
    result: FitResult, out: str | os.PathLike, extends: str, base_file: str, fmt: str = "csv"
) -> list[Path]:
    """Write a fit to the folder ``out`` (see the module docstring); ``extends`` is the base
    scenario as seen from ``out``. Returns the files written, the manifest last."""
    out = Path(out)
    written = [write_text(out / "fitted.yaml", overlay_text(result, extends))]
    figures = []
    for key, fit in result.durations.items():
        name = f"fit-{key.split('.')[1]}.png"
        clock = result.parameters.set_index("key").at[key, "unit"]
        figure = fit_figure(key, fit, base_distribution(result.base, key), clock)
        written.append(save_figure(figure, out / name))
        figures.append(name)
    written += [
        write_table(result.parameters, out, "parameters", fmt),
        write_table(result.stages, out, "stages", fmt),
        write_table(result.monthly, out, "monthly", fmt),
        write_table(_qq_table(result), out, "qq", fmt),
        write_text(out / "report.md", report_text(result, figures)),
    ]
    manifest = write_manifest(
        out,
        {
            "result": ["fit", result.base.name],
            "log": result.log.source,
            "scenario_file": base_file,
            "scenario_name": result.base.name,
            "scenario_digest": result.base.digest(),
            "rows_read": result.log.rows_read,
            "events_used": len(result.used),
            "skipped": result.skipped,
            "visits_not_timed": result.untimed,
            "files": [p.name for p in written],
        },
    )
    return [*written, manifest]


def round_trip_summary(trip: RoundTrip, reps: int | None = None) -> list[str]:
    """The round trip in three lines: intervals that cover the truth, KPIs that agree (with the
    widest bound, and a warning that few ``reps`` make agreement weak evidence), distances."""
    table = trip.parameters
    judged = table[table["covered"].notna()]
    missed = judged.loc[judged["covered"] == False, "key"].tolist()  # noqa: E712
    cvs = table[table["cv_covered"].notna()]
    kpis = trip.kpis[trip.kpis["agree"].notna()]
    apart = kpis.loc[kpis["agree"] == False]  # noqa: E712
    distances = trip.distances
    within = int((distances["emd_wd"] <= 2 * distances["emd_noise_wd"]).sum()) if len(distances) else 0
    relative = (kpis["bound"] / kpis["original"].abs()).replace(np.inf, np.nan) if len(kpis) else None
    widest = ""
    if relative is not None and relative.notna().any():
        w = relative.idxmax()
        widest = f"; widest bound ±{kpis.at[w, 'bound']:.3g}, {relative[w]:.0%} of {kpis.at[w, 'segment']}"
        widest += f".{kpis.at[w, 'kpi']}"
    if reps is not None and reps < 5:
        widest += f"; with {reps} replications the bounds are wide and agreement weak evidence: use --reps 5+"
    return [
        f"{len(judged) - len(missed)} of {len(judged)} 95% intervals cover the true value"
        + (f"; not: {', '.join(missed)}" if missed else "")
        + f" (cv: {int(cvs['cv_covered'].sum())} of {len(cvs)})",
        f"{len(kpis) - len(apart)} of {len(kpis)} KPI comparisons agree (fitted vs original run)"
        + (f"; not: {', '.join(apart['segment'] + '.' + apart['kpi'])}" if len(apart) else "")
        + widest,
        f"{within} of {len(distances)} segments: elapsed-time distance of the fitted run within twice "
        "the noise floor (the base on the other seed)",
    ]


def round_trip_text(trip: RoundTrip, scenario: str, reps: int, seeds: tuple[int, int]) -> str:
    """``round-trip.md``: what was simulated, fitted and rerun, the summary and the three tables."""
    parameters = trip.parameters[
        ["key", "unit", "n", "n_censored", "estimate", "ci_low", "ci_high", "base", "covered"]
        + ["cv", "cv_low", "cv_high", "base_cv", "cv_covered", "family", "interval"]
    ].rename(columns={"base": "true", "base_cv": "true_cv"})
    lines = [
        f"# Round trip of {scenario}",
        "",
        f"{scenario} simulated with its event log ({reps} replications, seed {seeds[0]}), the log fitted, "
        f"the fitted scenario and the scenario itself run again on seed {seeds[1]} (docs/fit.md, "
        '"The round trip").',
        "",
        *[f"- {line}" for line in round_trip_summary(trip, reps)],
        "",
        "## Fitted vs true parameters",
        "",
        _markdown(parameters),
        "",
        "## KPIs: original run vs fitted run",
        "",
        "They agree when the difference is within sqrt(hw_original² + hw_fitted²) (`bound`).",
        "",
        _markdown(trip.kpis),
        "",
        "## Elapsed times: earth mover's distance (working days)",
        "",
        "`emd_wd`: fitted vs original run; `emd_noise_wd`: the scenario itself on the other seed vs the "
        "original run, what sampling alone gives.",
        "",
        _markdown(trip.distances),
    ]
    return "\n".join(lines) + "\n"


def write_round_trip(
    trip: RoundTrip,
    out: str | os.PathLike,
    scenario: str,
    reps: int,
    seeds: tuple[int, int],
    base_file: str | None = None,
) -> list[Path]:
    """``round-trip.md`` and the ``round-trip-parameters``, ``-kpis`` and ``-distances`` tables, and
    the manifest: with ``base_file`` (a round trip on its own) a new one, else (beside a fit, whose
    manifest is in ``out``) the fit's, with the round trip's replications, seeds and files added."""
    out = Path(out)
    written = [
        write_text(out / "round-trip.md", round_trip_text(trip, scenario, reps, seeds)),
        write_table(trip.parameters, out, "round-trip-parameters", "csv"),
        write_table(trip.kpis, out, "round-trip-kpis", "csv"),
        write_table(trip.distances, out, "round-trip-distances", "csv"),
    ]
    files = [p.name for p in written]
    content: dict[str, Any] = {"reps": reps, "seeds": list(seeds), "files": files}
    if base_file is not None:
        body = {"result": ["fit --round-trip", scenario], "scenario_file": base_file} | content
    else:  # beside a fit: the fit's manifest gains the round trip and its files
        body = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        body = {k: v for k, v in body.items() if k not in ("command", "versions")}
        body["round_trip"] = {"scenario": scenario} | content
        body["files"] = [*body.get("files", []), *files]
    return [*written, write_manifest(out, body)]
