"""The KPI catalogue: every measure and statistic the tables carry, its unit, its English and
Chinese label, and whether it is a KPI (a measured figure) or an identifier or setting.

A *measure* is a length of time of a case (``sim.engine.clocks``): elapsed, the three parties'
shares, the full process (全过程 = utility + government) and the handling time (Appendix 2's
合计). A segment's KPI names a measure, a clock and a statistic over its finished cases:
``full_process_wd_p95`` is the 95th percentile of the full process in working days. Every other
column of the ``kpis``, ``pools`` and ``materials`` tables is listed by name below.

Tables, figures, the report, the console and the regression check read names, units and labels
from here, so a KPI is added or renamed in one place. This module imports nothing of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
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
            out.append(
                Kpi(f"{measure}_wd_{stat}", "kpis", "wd", f"{en.capitalize()}, {stat_en}", f"{zh}{stat_zh}")
            )
    for measure in ("elapsed", "full_process"):
        en, zh = MEASURES[measure]
        out.append(
            Kpi(
                f"{measure}_cd_mean",
                "kpis",
                "cd",
                f"{en.capitalize()}, mean (calendar days)",
                f"{zh}平均值（自然日）",
            )
        )
    return out


_ENTRIES: list[Kpi] = [
    # identifiers and settings of the kpis table
    Kpi("scenario", "kpis", "cases", "Scenario", "场景", is_kpi=False),
    Kpi("replication", "kpis", "cases", "Replication", "重复运行", is_kpi=False),
    Kpi("segment", "kpis", "cases", "Customer segment", "客户类别", is_kpi=False),
    Kpi("target_measure", "kpis", "wd", "Measure of the target", "目标指标", is_kpi=False),
    Kpi("target_days", "kpis", "wd", "Target (working days)", "目标（工作日）", is_kpi=False),
    Kpi("maximum_measure", "kpis", "wd", "Measure of the maximum", "最长时限指标", is_kpi=False),
    Kpi("maximum_days", "kpis", "wd", "Maximum (working days)", "最长时限（工作日）", is_kpi=False),
    # counts
    Kpi("n_cases", "kpis", "cases", "Counted cases", "统计户数"),
    Kpi("n_finished", "kpis", "cases", "Finished cases", "已接电户数"),
    Kpi("n_open", "kpis", "cases", "Cases still open at the end", "期末未完成户数"),
    Kpi("open_age_wd_max", "kpis", "wd", "Age of the oldest open case", "未完成最长已用时"),
    *_measure_kpis(),
    Kpi("on_target_share", "kpis", "share", "Share of cases on target", "达标率"),
    Kpi("within_maximum_share", "kpis", "share", "Share of cases within the maximum", "最长时限内占比"),
    Kpi("procedures_mean", "kpis", "procedures", "Procedures per case", "平均办电环节数"),
    Kpi("reworks_mean", "kpis", "reworks", "Reworks per case", "平均返工次数"),
    # pools
    Kpi("pool", "pools", "units", "Pool", "资源", is_kpi=False),
    Kpi("owner", "pools", "units", "Owner", "所属方", is_kpi=False),
    Kpi("units", "pools", "units", "Members", "人员（班组）数", is_kpi=False),
    Kpi("capacity", "pools", "units", "Capacity (cases at once)", "同时办理能力", is_kpi=False),
    Kpi("mean_busy", "pools", "units", "Busy slots, mean", "平均占用"),
    Kpi("utilisation", "pools", "share", "Utilisation", "利用率"),
    Kpi("n_served", "pools", "cases", "Cases served", "服务户数"),
    Kpi("wait_wd_mean", "pools", "wd", "Wait, mean", "平均等待"),
    Kpi("wait_wd_max", "pools", "wd", "Wait, maximum", "最长等待"),
    # materials
    Kpi("material", "materials", "orders", "Material", "物资", is_kpi=False),
    Kpi("orders", "materials", "orders", "Replenishment orders", "补货次数"),
    Kpi("stockouts", "materials", "cases", "Cases that found no stock", "缺货户数"),
    Kpi("from_stock", "materials", "cases", "Cases served from stock", "库存供应户数"),
    Kpi("from_transfer", "materials", "cases", "Cases served by transfer", "调拨供应户数"),
    Kpi("from_procurement", "materials", "cases", "Cases served by procurement", "采购供应户数"),
    Kpi("stock_at_end", "materials", "units", "Stock at the end", "期末库存"),
]
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
