"""The bounded interval of a share over replications (``stats.share_interval``)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiments.stats import share_interval, summarise, t_half_width


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=30),
    st.one_of(st.none(), st.integers(1, 5000)),
)
def test_share_interval_never_leaves_zero_to_one_and_holds_the_mean(shares, cases):
    counts = None if cases is None else [cases] * len(shares)
    low, high = share_interval(shares, counts)
    mean = float(np.mean(shares))
    assert 0.0 <= low <= high <= 1.0
    assert low <= mean + 1e-12 and mean - 1e-12 <= high


def test_share_interval_is_the_t_interval_away_from_the_bounds():
    rng = np.random.default_rng(3)
    shares = rng.normal(0.5, 0.02, size=20)
    low, high = share_interval(shares, [10_000] * 20)
    hw = t_half_width(shares)
    assert high - low == pytest.approx(2 * hw, rel=0.01)
    assert (low + high) / 2 == pytest.approx(shares.mean(), abs=1e-4)


def test_every_replication_at_100_percent_gives_the_wilson_bound_of_all_cases():
    # no spread: the replications' cases count as independent, 10 x 30 = 300 of them
    low, high = share_interval([1.0] * 10, [30] * 10)
    z = 1.959963984540054  # no spread was estimated: the binomial's normal quantile
    assert high == pytest.approx(1.0, abs=1e-12)
    assert low == pytest.approx(300 / (300 + z * z), rel=1e-12)


def test_fewer_than_two_replications_have_no_interval():
    assert all(math.isnan(v) for v in share_interval([0.9], [100]))


def test_share_interval_covers_the_true_share_near_one_about_95_percent_of_the_time():
    """10 replications, each a share of 60 cases that share a random replication effect (as a
    queue makes them alike): the true mean share is about 0.99, where t-intervals run past 100%
    in about half the experiments. Over 4,000 experiments the interval must cover it in 95% of
    them, within the binomial 99% band of the coverage estimate (and 1.5 points for the
    approximation)."""
    rng = np.random.default_rng(20210304)
    truth = np.clip(0.99 + rng.normal(0, 0.005, size=1_000_000), 0, 1).mean()  # clipping moves it
    experiments, hits, past_100 = 4000, 0, 0
    for _ in range(experiments):
        p = np.clip(0.99 + rng.normal(0, 0.005, size=10), 0, 1)
        shares = rng.binomial(60, p) / 60
        low, high = share_interval(shares, [60] * 10)
        hits += low <= truth <= high
        past_100 += shares.mean() + t_half_width(shares) > 1
    coverage = hits / experiments
    band = 2.576 * math.sqrt(0.95 * 0.05 / experiments)
    assert coverage >= 0.95 - band - 0.015
    assert past_100 > experiments / 4  # where the t-interval leaves 0-100% often


def test_summarise_adds_bounded_intervals_for_shares_only():
    import pandas as pd

    table = pd.DataFrame(
        {
            "segment": ["a"] * 4,
            "n_target_cases": [50, 50, 50, 50],
            "on_target_share": [1.0, 1.0, 0.98, 1.0],
            "handling_wd_mean": [3.0, 3.5, 4.0, 3.2],
        }
    )
    row = summarise(table, ["segment"], ["on_target_share", "handling_wd_mean"]).iloc[0]
    assert row["on_target_share"] + row["on_target_share_hw"] > 1  # the t-interval leaves 100%
    assert 0 < row["on_target_share_lo"] < row["on_target_share"] < row["on_target_share_hi"] <= 1
    assert "handling_wd_mean_lo" not in row.index
