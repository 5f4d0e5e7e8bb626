"""Small helpers shared by the built-in laws."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..priors import Prior


def mean_log(inputs: Mapping[str, np.ndarray], *names: str) -> dict[str, float]:
    """``{"log<name>_ref": mean(log inputs[name])}`` for each named input column."""
    return {
        f"log{n}_ref": float(np.mean(np.log(np.asarray(inputs[n], dtype=float)))) for n in names
    }


def exponent_prior(centre: float, sigma: float = 0.7) -> Prior:
    """LogNormal prior on a positive exponent with median ``centre``."""
    return Prior("LogNormal", mu=float(np.log(centre)), sigma=sigma)
