"""One case's path through the process: its stage visits as a table and as a Gantt chart.

``timeline(result, case_id)`` reads the event log of a run made with ``events=True`` and returns
one row per stage visit (a stage repeated by rework appears once per attempt), in the order the
case entered them:

    stage, label, party, resource, attempt,
    entered_wd, start_wd, end_wd     working days since the case's application
    wait_wd                          start − entered: waiting for materials and for a member of each pool
    duration_wd                      end − start: the stage itself (its staff's work and lead time)
    entered, start, end              the same instants as timestamps (local time, Chongqing)

``party`` is the stage's owner (utility, government or customer), the party whose clock runs
while the stage is the only one open (see docs/model.md for the clock-stop rule in parallel
branches). A stage still open at the end of the run has no end. ``DataFrame.attrs`` holds the
case's segment, attributes and clocks.

``timeline_figure(result, case_id)`` draws that table as a Gantt chart: one bar per stage visit,
coloured by party, its wait drawn in a lighter shade before it; the x axis counts working days since
the application; the title names the case, its segment and its elapsed and full-process times. It
returns a matplotlib ``Figure`` built without pyplot (so it needs no display and leaves no global
state): ``fig.savefig("case.png")``, or show it in Jupyter as the cell's value.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.experiments.replications import RunResult
from sim.kpi_catalogue import CLOCKS, MEASURE_NAMES, MEASURES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PARTY_COLOURS = {"utility": "#1f77b4", "government": "#d62728", "customer": "#2ca02c"}
WAIT_ALPHA = 0.3
COLUMNS = [
    "stage",
    "label",
    "party",
    "resource",
    "attempt",
    "entered_wd",
    "start_wd",
    "end_wd",
    "wait_wd",
    "duration_wd",
    "entered",
    "start",
    "end",
]
_CASE_INFO = ("segment", "finished", *(f"{m}_wd" for m in MEASURE_NAMES), "procedures", "reworks")
TITLE_MEASURES = ("elapsed", "full_process", "handling")  # the times a timeline's title gives


def _case_row(result: RunResult, case_id: str, replication: int) -> pd.Series | None:
    cases = result.cases
    match = cases[(cases["replication"] == replication) & (cases["case_id"] == case_id)]
    return match.iloc[0] if len(match) else None


def timeline(result: RunResult, case_id: str, replication: int = 0) -> pd.DataFrame:
    """The stage visits of case ``case_id`` (``segment:number``) in ``replication``; see the
    module docstring. Needs a result run with ``events=True``."""
    if result.events is None:
        raise ValueError(
            "timeline needs the event log: run with events=True, e.g. sim.run(scenario, events=True)"
        )
    case_id = str(case_id)
    events = result.events
    mine = events[(events["replication"] == replication) & (events["case:concept:name"] == case_id)]
    case = _case_row(result, case_id, replication)
    if mine.empty:
        reps = sorted(int(r) for r in events["replication"].unique())
        if replication not in reps:
            raise ValueError(f"no replication {replication} in this result (replications: {reps})")
        sample = ", ".join(result.cases.loc[result.cases["replication"] == replication, "case_id"].head(3))
        raise ValueError(
            f"no counted case {case_id!r} in replication {replication} (case ids are segment:number, "
            f"e.g. {sample})"
        )
    origin = float(case["arrival_wd"]) if case is not None else float(mine["time_wd"].iloc[0])
    visits: dict[tuple[str, int], dict] = {}
    stages = result.scenario.stages
    mine = mine.rename(
        columns={
            "concept:name": "stage",
            "lifecycle:transition": "transition",
            "org:resource": "resource",
            "time:timestamp": "timestamp",
        }
    )
    for r in mine.itertuples(index=False):
        stage, transition = r.stage, r.transition
        key = (stage, int(r.attempt))
        visit = visits.get(key)
        if visit is None:
            spec = stages.get(stage)
            visit = visits[key] = {
                "stage": stage,
                "label": spec.label if spec is not None else stage,
                "party": r.owner,
                "resource": r.resource,
                "attempt": int(r.attempt),
            }
        when = {"schedule": "entered", "start": "start", "complete": "end"}[transition]
        visit[f"{when}_wd"] = float(r.time_wd) - origin
        visit[when] = r.timestamp
    table = pd.DataFrame(list(visits.values()))
    for column in COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    table["wait_wd"] = table["start_wd"] - table["entered_wd"]
    table["duration_wd"] = table["end_wd"] - table["start_wd"]
    for column in ("entered", "start", "end"):
        table[column] = pd.to_datetime(table[column])
    table = table[COLUMNS].sort_values(["entered_wd", "start_wd"], kind="stable").reset_index(drop=True)
    table.attrs = {"case_id": case_id, "replication": replication, "arrival_wd": origin}
    if case is not None:
        table.attrs.update({k: _plain(case[k]) for k in _CASE_INFO if k in case.index})
        attributes = [
            c
            for c in result.cases.columns
            if c not in _CASE_INFO
            and c not in ("scenario", "replication", "case_id", "case_number", "arrival", "connected")
            and not c.endswith(("_wd", "_cd"))
        ]
        table.attrs["attributes"] = {k: _plain(case[k]) for k in attributes if not _missing(case[k])}
    return table


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value):
    if _missing(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def timeline_figure(
    result: RunResult, case_id: str, replication: int = 0, table: pd.DataFrame | None = None
) -> Figure:
    """A Gantt chart of one case's stages, coloured by party; see the module docstring."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    table = timeline(result, case_id, replication) if table is None else table
    info = table.attrs
    n = len(table)
    fig = Figure(figsize=(11, 1.4 + 0.38 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    end_of_case = info.get("elapsed_wd")
    y = np.arange(n)
    labels = []
    for i, r in enumerate(table.itertuples(index=False)):
        colour = PARTY_COLOURS.get(r.party, "grey")
        end = r.end_wd
        if math.isnan(end):  # still open at the end of the run
            end = end_of_case if end_of_case is not None and not math.isnan(end_of_case) else r.start_wd
        if not math.isnan(r.wait_wd) and r.wait_wd > 0:
            ax.barh(i, r.wait_wd, left=r.entered_wd, color=colour, alpha=WAIT_ALPHA, height=0.6, gid="wait")
        start = r.start_wd if not math.isnan(r.start_wd) else r.entered_wd
        ax.barh(i, end - start, left=start, color=colour, height=0.6, gid="stage")
        labels.append(r.label + (f" (attempt {r.attempt + 1})" if r.attempt else ""))
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("working days since the application")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(left=0)
    handles = [Patch(color=c, label=p) for p, c in PARTY_COLOURS.items()]
    handles.append(Patch(color="grey", alpha=WAIT_ALPHA, label="waiting (materials, queue)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    segment = info.get("segment")
    label = segment
    if segment is not None and segment in result.scenario.segments:
        label = result.scenario.segments[segment].label or segment
    times = []
    for measure in TITLE_MEASURES:
        value = info.get(f"{measure}_wd")
        if value is not None and not math.isnan(value):
            times.append(f"{MEASURES[measure].short} {value:.1f}")
    open_note = "" if info.get("finished", True) else " (still open)"
    title = f"Case {info['case_id']}: {label}, replication {info['replication']}{open_note}"
    if times:
        title += "\n" + ", ".join(times) + f" {CLOCKS['wd'].en}"
    ax.set_title(title)
    return fig
