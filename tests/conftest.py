"""Shared fixtures: the real datasets beside the project, pinned and fitted posteriors."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chinchilla_runs():
    """All 245 Chinchilla runs (skipped, with the reason, when no copy of the data is reachable)."""
    import bayescale as bs
    from bayescale.datasets import DatasetError

    try:
        return bs.load_dataset("chinchilla_besiroglu2024", download=False)
    except DatasetError as err:
        pytest.skip(f"Chinchilla runs not available locally: {err}")


@pytest.fixture(scope="session")
def protocol_runs(chinchilla_runs):
    """Besiroglu et al.'s 240-run protocol: the 5 highest losses dropped."""
    return chinchilla_runs.drop(index=chinchilla_runs["loss"].nlargest(5).index)


@pytest.fixture(scope="session")
def pinned():
    """A Chinchilla fit pinned near Besiroglu's estimate (no MCMC)."""
    import bayescale as bs

    return bs.testing.pinned_fit(random_seed=0)


@pytest.fixture(scope="session")
def small_fit():
    """A short real NUTS fit on simulated runs, shared by save/load and analysis tests."""
    import warnings

    import bayescale as bs

    runs = bs.testing.simulate_chinchilla(n=80, random_seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        return bs.fit(
            "chinchilla", runs, draws=300, tune=300, chains=2, random_seed=3, progressbar=False
        )


@pytest.fixture(scope="session")
def protocol_fit(protocol_runs):
    """The 240-run protocol fitted with the defaults (4 chains x 1000 draws)."""
    import bayescale as bs

    return bs.fit("chinchilla", protocol_runs, random_seed=0, progressbar=False)


@pytest.fixture
def floor_power_law():
    """Build a user-defined law L = exp(log_E) + exp(log_A)·N^(−α) under a given name/version,
    as a notebook user would declare it (not yet registered)."""
    import bayescale as bs

    def build(name: str, version: str):
        return bs.ScalingLaw(
            name=name,
            version=version,
            inputs=("N",),
            parameters=(
                bs.Parameter("log_E", bs.Prior("Normal", mu=0.5, sigma=1.0)),
                bs.Parameter("log_A", bs.Prior("Normal", mu=2.0, sigma=3.0)),
                bs.Parameter("alpha", bs.Prior("LogNormal", mu=-1.2, sigma=0.7)),
            ),
            expression=lambda xp, x, q: xp.logaddexp(
                q["log_E"], q["log_A"] - q["alpha"] * xp.log(x["N"])
            ),
        )

    return build
