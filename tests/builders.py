"""Scenario builders shared by the tests: the baseline as a mutable mapping and small hand-made
scenarios. ``tests/`` is on the import path (``pythonpath`` in pyproject.toml), so every test
folder imports them with ``from builders import ...``."""

from __future__ import annotations

import copy
from pathlib import Path

from sim.scenario.overlays import resolve_extends

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def baseline_dict() -> dict:
    """The baseline's data with its ``extends`` chain merged (it is an overlay of pre-reform.yaml)."""
    data, _ = resolve_extends(BASELINE, "scenarios/baseline.yaml")
    return copy.deepcopy(data)


def fixed(value: float) -> dict:
    return {"dist": "fixed", "value": value}


HOURS_PER_DAY = 8.0
"""Productive hours per working day of the pools the tests build (``staff``)."""


def staff(capacity: int | None, hours_per_day: float = HOURS_PER_DAY, **more) -> dict:
    """A pool of ``capacity`` members (None: unlimited) working ``hours_per_day``."""
    return {"capacity": capacity, "hours_per_day": hours_per_day, **more}


def work(days: float, hours_per_day: float = HOURS_PER_DAY) -> dict:
    """A fixed effort that keeps a member of a ``staff`` pool for ``days`` working days."""
    return fixed(days * hours_per_day)


def tiny_scenario(
    stages: dict, flow: list, *, attributes=None, resources=None, per_day=2.0, days=30, arrivals=None
) -> dict:
    """One segment, Poisson arrivals at ``per_day`` (or the given ``arrivals`` mapping, e.g.
    ``{"at": [0, 0.5]}``) for ``days`` working days, no warm-up."""
    return {
        "name": "tiny",
        "seed": 11,
        "horizon": {"start": "2021-03-01", "warmup_days": 0, "arrival_days": days, "drain_days": 200},
        "resources": resources or {},
        "stages": copy.deepcopy(stages),
        "segments": {
            "seg": {
                "label": "segment",
                "arrivals": arrivals or {"per_working_day": per_day},
                "attributes": attributes or {},
                "flow": flow,
            }
        },
    }


def two_waits(low: float = 1, mode: float = 5, high: float = 9) -> dict:
    """Two segments ``a`` and ``b``, each one customer wait of triangular (low, mode, high) working
    days (stages ``wait_a``, ``wait_b``) and no staff, so that nothing of one reaches the other;
    and a stage ``unused`` in no flow."""
    wait = {
        "label": "wait",
        "owner": "customer",
        "duration": {"dist": "triangular", "min": low, "mode": mode, "max": high},
    }
    data = tiny_scenario({"wait_a": wait, "wait_b": copy.deepcopy(wait)}, ["wait_a"], per_day=3.0, days=40)
    data["segments"] = {
        "a": {**data["segments"]["seg"], "label": "A"},
        "b": {**data["segments"]["seg"], "label": "B", "flow": ["wait_b"]},
    }
    data["stages"]["unused"] = {"label": "unused", "owner": "customer", "duration": fixed(1.0)}
    data["replications"] = 2
    return data
