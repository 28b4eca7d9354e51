"""Soak (slow): 10,000 MLP training steps keep the resident set within 5% of its size after warm-up.
The 100,000-step run is ``python -m bench.soak --steps 100000`` (README)."""
import pytest

from bench.soak import soak


@pytest.mark.slow
def test_10k_training_steps_keep_memory_flat():
    r = soak(10000, warmup=1000)
    assert r["growth"] <= 0.05, r


def test_soak_measures_growth():
    """The soak's measurement works (a tiny run, in the default suite)."""
    r = soak(30, warmup=10)
    assert r["rss_after_warmup_kib"] > 0 and r["rss_end_kib"] > 0 and r["final_loss"] > 0
