"""sampling.sample_model — the one path for self-contained PyMC models (Approach 2, pass@k):
the draws depend on the seed alone, not on the Python process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

CODE = """
import numpy as np, pymc as pm
from bayescale.sampling import sample_model
with pm.Model() as m:
    mu = pm.Normal("mu", 0, 1)
    s = pm.HalfNormal("s", 1, shape=3)
    pm.Normal("y", mu, s[np.array([0, 1, 2, 0])], observed=[0.1, -0.3, 0.5, 0.2])
t = sample_model(m, draws=40, tune=40, chains=2, seed=7)
print(repr(t["posterior"]["s"].to_numpy().ravel().tolist()))
"""


def _draws_in_process(hashseed: str) -> list[float]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True
    )
    return eval(out.stdout.strip().splitlines()[-1])


def test_same_seed_same_draws_in_another_process():
    first, second = _draws_in_process("1"), _draws_in_process("2")
    assert len(first) == 2 * 40 * 3
    np.testing.assert_array_equal(first, second)
