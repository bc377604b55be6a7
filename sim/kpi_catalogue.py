"""The KPI catalogue: every measure and statistic the tables carry, its unit, its English and
Chinese label, and whether it is a KPI (a measured figure) or an identifier or setting.

A *measure* is a length of time of a case (``sim.engine.clocks``): elapsed, the three parties'
shares, the full process (全过程 = utility + government) and the handling time (Appendix 2's
合计). A segment's KPI names a measure, a clock and a statistic over its finished cases:
``full_process_wd_p95`` is the 95th percentile of the full process in working days. Every other
column of the ``kpis``, ``pools`` and ``materials`` tables is a row of ``kpi_catalogue.csv`` beside
this module (table, name, unit, whether it is a KPI, English and Chinese label, the short English
heading of printed tables), where translators and analysts can read and edit it. The comparison's
``target_wd_mean/p95/max`` (the statistics of each segment's own target measure, whichever it is)
are rows of the ``kpis`` table too, though only the comparison's table carries them.

Tables, figures, the report, the console and the regression check read names, units and labels
from here, so a KPI is added or renamed in one place. This module imports nothing of the package.
"""

from __future__ import annotations

import csv
import io
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

Unit = Literal["wd", "cd", "share", "cases", "procedures", "reworks", "units", "orders", "days", "hours"]
Table = Literal["kpis", "pools", "materials", "targets"]


class Wording(NamedTuple):
    """How people read a name: English (lower case, to fit inside a sentence), Chinese, and the
    short English form of printed table headings."""

    en: str
    zh: str
    short: str


# the six measures of a case, in the order of the tables
MEASURES: dict[str, Wording] = {
    "elapsed": Wording("elapsed time", "总时长", "elapsed"),
    "utility": Wording("utility's time", "供电企业用时", "utility"),
    "government": Wording("government's time", "政府部门用时", "government"),
    "customer": Wording("customer's time", "客户用时", "customer"),
    "full_process": Wording("full process time", "全过程时长", "full process"),
    "handling": Wording("handling time", "办电环节时长", "handling"),
}
MEASURE_NAMES: tuple[str, ...] = tuple(MEASURES)

# statistics over a segment's finished cases
STATISTICS: dict[str, Wording] = {
    "mean": Wording("mean", "平均值", "mean"),
    "p50": Wording("median", "中位数", "p50"),
    "p95": Wording("95th percentile", "95%分位数", "p95"),
    "max": Wording("maximum", "最大值", "max"),
}

# the two clocks of a duration: working days and calendar days
CLOCKS: dict[str, Wording] = {
    "wd": Wording("working days", "工作日", "wd"),
    "cd": Wording("calendar days", "自然日", "cd"),
}

# every unit of the catalogue; a share is stored as a fraction and shown in percent
UNITS: dict[str, Wording] = {
    **CLOCKS,
    "share": Wording("%", "%", "%"),
    "cases": Wording("cases", "户", "cases"),
    "procedures": Wording("procedures", "个环节", "procedures"),
    "reworks": Wording("reworks", "次", "reworks"),
    "units": Wording("units", "个", "units"),
    "orders": Wording("orders", "次", "orders"),
    "days": Wording("days", "天", "days"),
    "hours": Wording("hours", "小时", "h"),
}
# the shares of the kpis table count cases; a pool's utilisation is a share of its time
CASE_SHARE = Wording("% of counted cases", "占统计户数的百分比", "%")
# a difference of two shares
POINTS = Wording("percentage points", "个百分点", "pp")
# decimals of every unit, wherever a number is shown: console, tables' display columns, report,
# sweep summaries, figures' annotations (a share in percent)
DECIMALS: dict[str, int] = {
    "wd": 1,
    "cd": 1,
    "days": 1,
    "share": 1,
    "cases": 0,
    "procedures": 2,
    "reworks": 2,
    "units": 1,
    "orders": 1,
    "hours": 1,
}


@dataclass(frozen=True)
class Kpi:
    """One column of a result table: how to name it, in which unit, and whether it is a KPI."""

    name: str
    table: Table
    unit: Unit
    label: str  # English, sentence case
    label_zh: str
    is_kpi: bool = True  # False: an identifier, a target's setting or a fixed size
    short: str = ""  # the heading of printed tables (the name when empty)

    def title(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label

    @property
    def is_share(self) -> bool:
        """Shares are stored as fractions and shown as percentages."""
        return self.unit == "share"


def _measure_kpis() -> list[Kpi]:
    out = []
    for measure, m in MEASURES.items():
        for stat, s in STATISTICS.items():
            title = f"{m.en.capitalize()}, {s.en}"
            short = f"{m.short} {s.short}"
            out.append(Kpi(f"{measure}_wd_{stat}", "kpis", "wd", title, f"{m.zh}{s.zh}", short=short))
    for measure in ("elapsed", "full_process"):
        m = MEASURES[measure]
        title = f"{m.en.capitalize()}, mean (calendar days)"
        short = f"{m.short} mean (cd)"
        out.append(Kpi(f"{measure}_cd_mean", "kpis", "cd", title, f"{m.zh}平均值（自然日）", short=short))
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
            entry = Kpi(
                row["name"], table, unit, row["label"], row["label_zh"], row["kpi"] == "yes", row["short"]
            )
            out.append(entry)
    return out


_ENTRIES: list[Kpi] = _read_catalogue()
CATALOGUE: dict[str, Kpi] = {k.name: k for k in _ENTRIES}

# the measures a run's summary shows, each with every statistic
SUMMARY_MEASURES: tuple[str, ...] = ("handling", "full_process", "elapsed")
# the per-segment KPIs a run's summary shows, in order
SUMMARY: tuple[str, ...] = (
    "n_cases",
    "n_finished",
    "n_open",
    *(f"{m}_wd_{s}" for m in SUMMARY_MEASURES for s in STATISTICS),
    "elapsed_cd_mean",
    "target_days",
    "on_target_share",
    "procedures_mean",
)
# the per-pool figures a run's summary shows
POOL_SUMMARY: tuple[str, ...] = ("capacity", "utilisation", "wait_wd_mean", "n_served")
# the per-segment KPIs a comparison of scenarios shows (target_wd_*: each segment's own measure)
COMPARISON: tuple[str, ...] = (
    "handling_wd_mean",
    "full_process_wd_mean",
    "elapsed_wd_mean",
    "target_wd_mean",
    "target_wd_p95",
    "target_wd_max",
    "on_target_share",
    "procedures_mean",
)
# a target's bound is a setting, not a measured figure, but the regression check records it with
# the KPIs: a moved bound changes what on_target_share and within_maximum_share mean
TARGET_BOUNDS: tuple[str, ...] = ("target_days", "maximum_days", "bound_days", "required_share")


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


def is_share(name: str) -> bool:
    """A share, stored as a fraction and shown in percent (unknown columns are not)."""
    entry = CATALOGUE.get(name)
    return entry is not None and entry.is_share


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
    """The unit as axis labels and tables show it ("working days", "% of counted cases", ...);
    empty for columns the catalogue does not know."""
    entry = CATALOGUE.get(name)
    if entry is None:
        return ""
    wording = CASE_SHARE if entry.is_share and entry.table == "kpis" else UNITS[entry.unit]
    return wording.zh if lang == "zh" else wording.en


def axis_label(name: str, lang: str = "en") -> str:
    """A column's label with its unit in brackets, as an axis shows it: "Handling time, mean
    (working days)". A label that already names its unit ("Target (working days)", "Counted
    cases") says it once."""
    text, unit = label(name, lang), unit_label(name, lang)
    if not unit or unit.lower() in text.lower():  # "Counted cases", not "Counted cases (cases)"
        return text
    return f"{text}（{unit}）" if lang == "zh" else f"{text} ({unit})"


def short_label(name: str) -> str:
    """A column's heading in printed tables ("on target", "mean wait"); the name when it has none."""
    entry = CATALOGUE.get(name)
    return (entry.short or name) if entry is not None else name


def heading(name: str) -> str:
    """A printed table's heading with the unit a reader needs: "mean wait (wd)";
    counts and other units go without ("cases", "procedures")."""
    entry = CATALOGUE.get(name)
    if entry is None:
        return name
    if entry.is_share:  # its cells carry the % sign
        return short_label(name)
    text, clock = short_label(name), CLOCKS.get(entry.unit)
    if clock is not None and f"({clock.short})" not in text:
        return f"{text} ({clock.short})"
    return text


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}" if abs(value) >= 10_000 else f"{value:.{digits}f}"


def show(
    name: str,
    value: Any,
    hw: Any = None,
    lo: Any = None,
    hi: Any = None,
    *,
    difference: bool = False,
    unit: bool = False,
    lang: str = "en",
) -> str:
    """A figure as every output shows it, with the unit's decimals of the catalogue: a share in
    percent with its bounded interval (``98.3% (96.1–99.4)``), a difference of shares in
    percentage points with its interval when it is bounded (``+91.3 pp (81.3 to 91.3)``) or its
    half-width (``+1.2 pp ± 0.8``), any other figure with its half-width (``6.4 ± 0.2``; none when
    the replications did not differ), ``–`` when missing. ``unit`` appends the clock of durations
    (``6.4 ± 0.2 wd``, in Chinese ``6.4 ± 0.2 工作日``). Columns the catalogue does not know get
    two decimals."""
    if value is None or _missing(value):
        return "–"
    entry = CATALOGUE.get(name)
    share = entry is not None and entry.is_share
    digits = DECIMALS[entry.unit] if entry is not None else 2
    scale = 100 if share else 1

    def number(x: float, signed: bool = False) -> str:
        x = 0.0 if round(scale * x, digits) == 0 else x  # no "-0.0" or "+0.0"
        return ("+" if signed and x > 0 else "") + _number(scale * x, digits)

    text = number(value, difference)
    if share:
        text += f" {POINTS.zh if lang == 'zh' else POINTS.short}" if difference else "%"
    if share and not (lo is None or _missing(lo) or hi is None or _missing(hi)):
        between = (" 至 " if lang == "zh" else " to ") if difference else "–"  # "-3.1 to 2.0"
        text += f" ({number(lo)}{between}{number(hi)})"
    elif hw is not None and not _missing(hw) and hw > 0:
        text += f" ± {number(hw)}"
    if unit and entry is not None and entry.unit in CLOCKS:
        text += f" {CLOCKS[entry.unit].zh if lang == 'zh' else entry.unit}"
    return text


def _missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN (and pandas' NA, which cannot be a bool)
    except TypeError:
        return True
