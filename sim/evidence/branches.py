"""The share of cases taking a conditional step, as the yes/no attribute that decides it.

A flow step ``{stage: S, when: {A: true}}`` is taken by the cases whose attribute ``A`` is true,
and ``A`` is drawn ``bernoulli`` with probability ``p``: the share of cases that took S estimates
``p``. Where ``A`` is drawn only when another attribute ``B`` holds (``when: {B: true}``, route
approval only for cases with external works) and ``B`` decides a step too, the share is among the
cases that took (or skipped) that step. Conditions of other shapes (ranges, categories, several
attributes) are not turned into a parameter.

Only cases whose path past the step is *decided* count: a case still open that has not reached the
step yet says nothing about it (counting it as "not taken" would bias the share down, as dropping
open cases would bias it toward the quicker path). A case is decided about S when it took S, has a
visit of a stage that comes after S in its flow, or is finished. Each share has its 95% Wilson
interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.evidence.flows import conditional_steps
from sim.experiments.stats import wilson
from sim.scenario.distributions import Bernoulli
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Share:
    key: str  # the attribute's key path in the scenario
    written: dict  # the bernoulli mapping the overlay writes
    stage: str
    successes: int
    trials: int
    among: str  # which cases were counted
    interval: tuple[float, float, float]  # share, low, high
    base: float


def _flag(condition: dict | None) -> tuple[str, bool] | None:
    """(A, value) for a condition ``{A: true}`` or ``{A: false}``; None for any other."""
    if condition and len(condition) == 1:
        ((attribute, value),) = condition.items()
        if isinstance(value, bool):
            return attribute, value
    return None


def branch_shares(base: Scenario, visits: pd.DataFrame, cases: pd.DataFrame) -> list[Share]:
    """The shares of every segment's conditional steps that a yes/no attribute decides."""
    out = []
    for seg_name, segment in base.segments.items():
        members = cases[cases["segment"] == seg_name]
        if members.empty:
            continue
        finished = set(members.loc[~members["open"], "case"])
        mine = visits[visits["case"].isin(set(members["case"]))]
        seen = {activity: set(group) for activity, group in mine.groupby("activity")["case"]}
        gated: dict[str, tuple[str, bool, set[str]]] = {}  # attribute -> (stage, value, decided cases)
        for stage, when, later in conditional_steps(segment.flow):
            flag = _flag(when)
            if flag and base.stages[stage].when is None and flag[0] not in gated:
                decided = set(finished) | seen.get(stage, set())
                for follower in later:
                    decided |= seen.get(follower, set())
                gated[flag[0]] = (stage, flag[1], decided)
        for attribute, (stage, value, decided) in gated.items():
            spec = segment.attributes.get(attribute)
            if not isinstance(spec, Bernoulli):
                continue
            pool, among = decided, "cases past the step"
            if spec.when is not None:
                inner = _flag(spec.when)
                if inner is None or inner[0] not in gated:
                    continue  # drawn under a condition the log does not show
                gate_stage, gate_value, gate_decided = gated[inner[0]]
                took_gate = seen.get(gate_stage, set())
                pool = (took_gate if gate_value == inner[1] else gate_decided - took_gate) & decided
                among = f"cases {'that took' if gate_value == inner[1] else 'that skipped'} {gate_stage}"
            if not pool:
                continue
            took = seen.get(stage, set()) & pool
            successes = len(took) if value else len(pool) - len(took)
            interval = wilson(successes, len(pool))
            written = {"dist": "bernoulli", "p": round(interval[0], 4)}
            if spec.when is not None:
                written["when"] = spec.when  # drawn under the same condition as in the base
            key = f"segments.{seg_name}.attributes.{attribute}"
            out.append(Share(key, written, stage, successes, len(pool), among, interval, spec.p))
    return out
