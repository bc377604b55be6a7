"""What a sensitivity run says about its indices, without running the model: the 95% interval of
mu_star never reaches below 0 (bootstrap percentiles of the trajectories' effects, where SALib's
symmetric half-width does), a KPI that never varies ranks no input and says so, and "decided by"
names only inputs whose interval lies above those ranked below, saying which it cannot tell apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import two_waits

from sim.experiments.sensitivity import (
    SensitivityOutcome,
    analyse,
    design,
    elementary_effects,
    load_sensitivity,
    mu_star_interval,
    problem,
)
from sim.outputs.sensitivity_figures import deciding, report
from sim.scenario import scenario_from_dict


@pytest.fixture(scope="module")
def plan():
    """A Morris design of 4 trajectories over 3 inputs (16 rows); nothing is run."""
    return design(
        load_sensitivity(
            {
                "name": "two-waits",
                "base": scenario_from_dict(two_waits()),
                "seed": 5,
                "trajectories": 4,
                "inputs": {
                    "stages.wait_b.duration.mode": {"range": [2, 8], "label": "wait of b"},
                    "stages.wait_a.duration.mode": {"range": [2, 8], "label": "wait of a"},
                    "stages.unused.duration.value": {"range": [1, 3], "label": "unused stage"},
                },
                "kpis": [{"kpi": "elapsed_wd_mean", "segment": "a"}],
            }
        )
    )


def test_the_effects_are_salibs_and_the_interval_of_mu_star_never_goes_below_0(plan):
    from SALib.analyze import morris

    # any KPI: the effects rebuilt from the design are SALib's (their mean absolute value is mu_star)
    y = np.random.default_rng(1).normal(size=len(plan.rows))
    salib = morris.analyze(problem(plan.spec), plan.matrix, y, num_levels=4, seed=5)
    np.testing.assert_allclose(np.abs(elementary_effects(plan, y)).mean(axis=1), salib["mu_star"])
    # a KPI that only the first input moves, by 2 per range, and in one trajectory of four: mu_star
    # 0.5, which SALib's half-width (1.96 bootstrap standard deviations) takes below 0
    r, k = 4, 3
    x = plan.matrix.reshape(r, k + 1, k)
    y = np.zeros((r, k + 1))
    for t in range(r):
        for n in range(k):
            step = (x[t, n + 1] - x[t, n]) / np.array([6.0, 6.0, 2.0])
            moved = int(np.argmax(step != 0))
            y[t, n + 1] = y[t, n] + (2.0 * step[moved] if moved == 0 and t == 0 else 0.0)
    salib = morris.analyze(problem(plan.spec), plan.matrix, y.ravel(), num_levels=4, seed=5)
    assert salib["mu_star"][0] == pytest.approx(0.5) and salib["mu_star"][0] - salib["mu_star_conf"][0] < 0
    low, high = mu_star_interval(plan, y.ravel())
    assert low[0] == 0.0 and 0.5 < high[0] <= 2.0
    assert list(low[1:]) == [0.0, 0.0] and list(high[1:]) == [0.0, 0.0]  # never moved: [0, 0]


def test_a_kpi_that_never_varies_ranks_nothing_and_says_so(plan):
    runs = pd.DataFrame(
        {"point": [p.index for p in plan.sweep.points], "segment": "a", "elapsed_wd_mean": 4.0}
    )
    indices, table = analyse(plan, runs)
    assert indices["rank"].isna().all() and (indices["mu_star"] == 0.0).all()
    outcome = SensitivityOutcome(plan, indices, table, runs=None, out=None, seconds=0.0, files=[])  # type: ignore[arg-type]
    text = report(outcome)
    assert (
        "The KPI is 4.00 working days at every design point: no input moves it within its range; "
        "nothing is ranked." in text
    )
    assert "Decided by" not in text and "| rank |" not in text


def rows(*entries: tuple[str, float, float, float]) -> pd.DataFrame:
    """Ranked rows of the indices table: (label, mu_star, low, high)."""
    return pd.DataFrame(
        {
            "rank": range(1, len(entries) + 1),
            "label": [e[0] for e in entries],
            "input": [f"x.{e[0]}" for e in entries],
            "mu_star": [e[1] for e in entries],
            "mu_star_low": [e[2] for e in entries],
            "mu_star_high": [e[3] for e in entries],
        }
    )


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        (  # the first two apart from each other and from the rest; the rest overlap
            rows(("A", 10, 8, 12), ("B", 5, 4, 6), ("C", 2, 1, 3.5), ("D", 1.5, 0.5, 2.5), ("E", 0, 0, 0)),
            "Decided by: 1. A (`x.A`, μ* 10.00, 95% interval 8.00–12.00); 2. B (`x.B`, μ* 5.00, 95% "
            "interval 4.00–6.00), their intervals above those of the inputs ranked below. Then, not told "
            "apart by this design: 3. C (`x.C`, μ* 2.00, 95% interval 1.00–3.50), 4. D (`x.D`, μ* 1.50, "
            "95% interval 0.50–2.50).",
        ),
        (  # the first two overlap each other, not the third
            rows(("A", 10, 6, 12), ("B", 8, 5, 11), ("C", 1, 0, 2)),
            "Decided by: 1. A (`x.A`, μ* 10.00, 95% interval 6.00–12.00), 2. B (`x.B`, μ* 8.00, 95% "
            "interval 5.00–11.00), not told apart, their intervals above those of the inputs ranked below. "
            "Then, not told apart from no effect (intervals overlapping down to one that reaches 0): "
            "3. C (`x.C`, μ* 1.00, 95% interval 0.00–2.00).",
        ),
        (  # the first overlaps the second: nothing is named as deciding alone
            rows(("A", 10, 3, 17), ("B", 5, 2, 8), ("C", 4, 1, 7), ("D", 3, 1, 5), ("E", 0, 0, 0)),
            "No input stands apart: each input's 95% interval overlaps that of an input ranked below it, "
            "down to rank 4, so this design cannot tell which decides the KPI; by μ*: 1. A (`x.A`, μ* "
            "10.00, 95% interval 3.00–17.00), 2. B (`x.B`, μ* "
            "5.00, 95% interval 2.00–8.00), 3. C (`x.C`, μ* 4.00, 95% interval 1.00–7.00), 4. D (`x.D`, "
            "μ* 3.00, 95% interval 1.00–5.00).",
        ),
        (  # every interval reaches 0
            rows(("A", 1, 0, 3), ("B", 0, 0, 0)),
            "No input stands apart from no effect: every 95% interval reaches 0, so this design cannot "
            "tell that any moves the KPI: 1. A (`x.A`, μ* 1.00, 95% interval 0.00–3.00).",
        ),
        (  # the first is above 0, but overlaps the second, which reaches 0
            rows(("A", 10, 3, 17), ("B", 4, 0, 8), ("C", 0, 0, 0)),
            "No input stands apart: each input's 95% interval overlaps that of an input ranked below it, "
            "down to intervals that reach 0, so this design cannot tell which decides the KPI; by μ*: "
            "1. A (`x.A`, μ* 10.00, 95% interval 3.00–17.00), 2. B (`x.B`, μ* 4.00, 95% interval "
            "0.00–8.00).",
        ),
    ],
)
def test_decided_by_names_only_inputs_whose_interval_lies_above_the_next(ranked, expected):
    assert deciding(ranked, "elapsed_wd_mean", morris=True) == expected


def _noisy_runs(plan, effect: float, replications: int = 6, seed: int = 3) -> pd.DataFrame:
    """Per point and replication: the KPI is `effect` times the first input's place in its range,
    plus noise of standard deviation 1 that differs between replications and between points (no
    input moves the noise)."""
    rng = np.random.default_rng(seed)
    first = plan.spec.inputs[0]
    rows = []
    for point in plan.sweep.points:
        level = (point.overrides[first.key] - first.low) / (first.high - first.low)
        for r in range(replications):
            rows.append(
                {
                    "point": point.index,
                    "replication": r,
                    "segment": "a",
                    "elapsed_wd_mean": effect * level + rng.normal(),
                }
            )
    return pd.DataFrame(rows)


def test_noise_alone_decides_nothing_and_a_real_effect_stands_above_it(plan):
    """A mean of absolute effects turns replication noise into a positive mu_star: the report
    compares the intervals with the level noise alone reaches, not with 0."""
    indices, _ = analyse(plan, _noisy_runs(plan, effect=0.0))
    assert (indices["mu_star_noise"] > 0).all() and (indices["mu_star_low"] > 0).any()
    assert deciding(indices, "elapsed_wd_mean", morris=True).startswith("No input stands apart")
    indices, _ = analyse(plan, _noisy_runs(plan, effect=30.0))
    text = deciding(indices, "elapsed_wd_mean", morris=True)
    assert text.startswith("Decided by: 1. wait of b") and "wait of a" not in text.split(".")[1]
