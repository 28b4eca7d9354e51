import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed():
    import chainrule as cr
    cr.manual_seed(0)
    np.random.seed(0)


def skip_unless_ci(reason):
    """Skip a test whose system tool (Graphviz, Chromium) is missing on this machine; under CI
    (CHAINRULE_CI=1, set by .ci/run, which installs the tools) the test fails instead."""
    if os.environ.get("CHAINRULE_CI") == "1":
        pytest.fail(f"CI must have it: {reason}")
    pytest.skip(reason)
