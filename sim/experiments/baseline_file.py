"""The baseline file: the recorded KPIs of a scenario as JSON, one line per KPI.

Per group (a segment, ``pool:NAME``, ``material:NAME``) and KPI it stores the mean over the
replications and its 95% Student-t half-width and the number of replications with a value,
together with what was run (the scenario's file, relative to the baseline file, its digest, seed
and replications), when, and with which package versions. One line per KPI makes the diff of an
update read KPI by KPI; missing values are ``null`` (JSON has no NaN). ``sim.experiments.check``
records and compares; this module only reads and writes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.outputs.tables import atomic_write

CONFIDENCE = 0.95  # of the recorded intervals
FORMAT_VERSION = 1
COLUMNS = ["group", "kpi", "mean", "half_width", "n"]


class BaselineError(Exception):
    """A baseline file that cannot be read or does not fit (bad input: exit status 2)."""


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _none_to_nan(x) -> float:
    return math.nan if x is None else float(x)


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


@dataclass
class Baseline:
    """The content of a baseline file."""

    scenario_file: Path  # absolute
    scenario_name: str
    scenario_digest: str
    seed: int
    replications: int
    kpis: pd.DataFrame  # group, kpi, mean, half_width, n
    versions: dict = field(default_factory=dict)
    recorded_at: str = ""

    @classmethod
    def read(cls, path: str | os.PathLike) -> Baseline:
        path = Path(path)
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{path}: no such baseline file (record one with check --update)") from None
        except (OSError, ValueError) as exc:
            raise BaselineError(f"{path}: not a readable baseline file ({exc})") from None
        try:
            rows = [
                {
                    "group": group,
                    "kpi": kpi,
                    "mean": _none_to_nan(v["mean"]),
                    "half_width": _none_to_nan(v["half_width"]),
                    "n": int(v["n"]),
                }
                for group, of_group in body["kpis"].items()
                for kpi, v in of_group.items()
            ]
            return cls(
                scenario_file=(path.parent / body["scenario_file"]).resolve(),
                scenario_name=body["scenario_name"],
                scenario_digest=body["scenario_digest"],
                seed=int(body["seed"]),
                replications=int(body["replications"]),
                kpis=pd.DataFrame(rows, columns=COLUMNS),
                versions=body.get("versions", {}),
                recorded_at=body.get("recorded_at", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"{path}: not a baseline file (missing or bad {exc})") from None

    def write(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        kpis: dict[str, dict] = {}
        for r in self.kpis.itertuples(index=False):
            kpis.setdefault(r.group, {})[r.kpi] = {
                "mean": _nan_to_none(float(r.mean)),
                "half_width": _nan_to_none(float(r.half_width)),
                "n": int(r.n),
            }
        body = {
            "about": (
                "Baseline KPIs for `run_sim.py check`: per group (segment, pool:NAME, material:NAME) "
                "and KPI, the mean over the replications and its 95% Student-t half-width. "
                "Rewrite with `run_sim.py check --update`; the tolerance rule is in sim/experiments/check.py."
            ),
            "format_version": FORMAT_VERSION,
            "scenario_file": _relative(self.scenario_file, path.parent),
            "scenario_name": self.scenario_name,
            "scenario_digest": self.scenario_digest,
            "seed": self.seed,
            "replications": self.replications,
            "confidence": CONFIDENCE,
            "recorded_at": self.recorded_at,
            "versions": self.versions,
            "kpis": kpis,
        }

        def write(tmp):  # one line per KPI, so that a diff of an update reads KPI by KPI
            head = json.dumps({**body, "kpis": None}, indent=1, ensure_ascii=False, allow_nan=False)
            groups = ",\n".join(
                f"  {json.dumps(group)}: {{\n"
                + ",\n".join(f"   {json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in of.items())
                + "\n  }"
                for group, of in kpis.items()
            )
            text = head.replace('"kpis": null', '"kpis": {\n' + groups + "\n }")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")

        atomic_write(path, write)
        return path
