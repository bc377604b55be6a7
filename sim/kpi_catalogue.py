"""The KPI catalogue: every measure and statistic the tables carry, its unit, its English and
Chinese label, and whether it is a KPI (a measured figure) or an identifier or setting.

A *measure* is a length of time of a case (``sim.engine.clocks``): elapsed, the three parties'
shares, the full process (全过程 = utility + government) and the handling time (Appendix 2's
合计). A segment's KPI names a measure, a clock and a statistic over its finished cases:
``full_process_wd_p95`` is the 95th percentile of the full process in working days. Every other
column of the ``kpis``, ``pools`` and ``materials`` tables is a row of ``kpi_catalogue.csv`` beside
this module (table, name, unit, whether it is a KPI, English and Chinese label), where translators
and analysts can read and edit it.

Tables, figures, the report, the console and the regression check read names, units and labels
from here, so a KPI is added or renamed in one place. This module imports nothing of the package.
"""

from __future__ import annotations

import csv
import io
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Unit = Literal["wd", "cd", "share", "cases", "procedures", "reworks", "units", "orders", "days"]
Table = Literal["kpis", "pools", "materials"]

# the six measures of a case, in the order of the tables: (English, Chinese)
MEASURES: dict[str, tuple[str, str]] = {
    "elapsed": ("elapsed time", "总时长"),
    "utility": ("utility's time", "供电企业用时"),
    "government": ("government's time", "政府部门用时"),
    "customer": ("customer's time", "客户用时"),
    "full_process": ("full process time", "全过程时长"),
    "handling": ("handling time", "办电环节时长"),
}
MEASURE_NAMES: tuple[str, ...] = tuple(MEASURES)

# statistics over a segment's finished cases: (English, Chinese, short label of the tables)
STATISTICS: dict[str, tuple[str, str, str]] = {
    "mean": ("mean", "平均值", "mean"),
    "p50": ("median", "中位数", "p50"),
    "p95": ("95th percentile", "95%分位数", "p95"),
    "max": ("maximum", "最大值", "max"),
}

# the two clocks of a duration: working days and calendar days
CLOCKS: dict[str, tuple[str, str]] = {"wd": ("working days", "工作日"), "cd": ("calendar days", "自然日")}


@dataclass(frozen=True)
class Kpi:
    """One column of a result table: how to name it, in which unit, and whether it is a KPI."""

    name: str
    table: Table
    unit: Unit
    label: str  # English, sentence case
    label_zh: str
    is_kpi: bool = True  # False: an identifier, a target's setting or a fixed size

    def title(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label

    @property
    def is_share(self) -> bool:
        """Shares are stored as fractions and shown as percentages."""
        return self.unit == "share"


def _measure_kpis() -> list[Kpi]:
    out = []
    for measure, (en, zh) in MEASURES.items():
        for stat, (stat_en, stat_zh, _) in STATISTICS.items():
            title = f"{en.capitalize()}, {stat_en}"
            out.append(Kpi(f"{measure}_wd_{stat}", "kpis", "wd", title, f"{zh}{stat_zh}"))
    for measure in ("elapsed", "full_process"):
        en, zh = MEASURES[measure]
        title = f"{en.capitalize()}, mean (calendar days)"
        out.append(Kpi(f"{measure}_cd_mean", "kpis", "cd", title, f"{zh}平均值（自然日）"))
    return out


def _read_catalogue() -> list[Kpi]:
    """The rows of ``kpi_catalogue.csv``; its row ``<measures>`` stands for the measure KPIs."""
    out: list[Kpi] = []
    text = (Path(__file__).parent / "kpi_catalogue.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        if row["name"] == "<measures>":
            out += _measure_kpis()
        else:
            unit = typing.cast(Unit, row["unit"])
            table = typing.cast(Table, row["table"])
            out.append(Kpi(row["name"], table, unit, row["label"], row["label_zh"], row["kpi"] == "yes"))
    return out


_ENTRIES: list[Kpi] = _read_catalogue()
CATALOGUE: dict[str, Kpi] = {k.name: k for k in _ENTRIES}

# the per-segment KPIs a run's summary shows, in order
SUMMARY: tuple[str, ...] = (
    "n_cases",
    "n_finished",
    "n_open",
    *(f"{m}_wd_{s}" for m in ("handling", "full_process", "elapsed") for s in STATISTICS),
    "elapsed_cd_mean",
    "target_days",
    "on_target_share",
    "procedures_mean",
)
# the per-pool figures a run's summary shows
POOL_SUMMARY: tuple[str, ...] = ("capacity", "utilisation", "wait_wd_mean", "n_served")


def kpi(name: str) -> Kpi:
    """The catalogue entry of a column; ``KeyError`` names the known ones."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"no KPI '{name}' in the catalogue; known: {', '.join(CATALOGUE)}") from None


def is_kpi(name: str) -> bool:
    """A measured figure (not an identifier, a target's setting or a fixed size). Columns the
    catalogue does not know (scenario attributes, sweep parameters) are not KPIs."""
    entry = CATALOGUE.get(name)
    return entry is not None and entry.is_kpi


def entries(table: Table = "kpis") -> list[Kpi]:
    """Every column of one table the catalogue knows (KPIs and identifiers), in catalogue order."""
    return [k for k in _ENTRIES if k.table == table]


def kpi_names(table: Table = "kpis") -> list[str]:
    """The KPIs of one table, in catalogue order."""
    return [k.name for k in _ENTRIES if k.table == table and k.is_kpi]


def label(name: str, lang: str = "en") -> str:
    """A column's label for people; the name itself for columns the catalogue does not know."""
    entry = CATALOGUE.get(name)
    return entry.title(lang) if entry is not None else name


def unit_label(name: str, lang: str = "en") -> str:
    """The unit as axis labels and tables show it ("working days", "%", ...)."""
    entry = CATALOGUE.get(name)
    if entry is None:
        return ""
    if entry.unit in CLOCKS:
        en, zh = CLOCKS[entry.unit]
        return zh if lang == "zh" else en
    if entry.unit == "share":
        return "%"
    return entry.unit
