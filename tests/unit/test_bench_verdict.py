"""The warm-page benchmark's wall verdict: the median's own uncertainty decides it."""

from __future__ import annotations

from bench.warm_page import median_interval, wall_verdict


def test_the_wall_verdict_weighs_the_medians_own_uncertainty() -> None:
    # Rounds that all say 1.04 meet the target; all 1.06 miss it; rounds spread evenly
    # across it (a median near 1.05, uncertain either way) are not told apart.
    assert wall_verdict(median_interval([1.04] * 50, seed=1)) == "met"
    assert wall_verdict(median_interval([1.06] * 50, seed=1)) == "missed"
    spread = [1.0 + index / 1000 for index in range(20, 81)]  # 1.020 .. 1.080
    low, high = median_interval(spread, seed=1)
    assert low < 1.05 < high
    assert wall_verdict((low, high)) == "not told apart"
    # More rounds of the same spread give a narrower interval.
    narrower = median_interval(spread * 9, seed=1)
    assert narrower[1] - narrower[0] < high - low
