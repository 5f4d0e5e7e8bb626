"""Repeated-sampling laws (bayescale/sampling_laws.py): pass@k in k and model size N."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.sampling_laws import (
    PassAtKResult,
    beta_pass_at_k,
    extrapolation_check,
    pass_at_k,
    point_fit_pass_at_k,
    samples_for_coverage,
    subsample_counts,
)

#: SOURCE.md's reference coverage (computed from the upstream parquet), 70M → 12B.
REFERENCE = {
    1: [0.0006, 0.0027, 0.0062, 0.0083, 0.0203, 0.0186, 0.0232],
    100: [0.0361, 0.1619, 0.2272, 0.2745, 0.4220, 0.4316, 0.4834],
    10000: [0.2656, 0.5703, 0.6562, 0.7422, 0.8125, 0.8359, 0.8750],
}
NEVER_SOLVED = [94, 55, 44, 33, 24, 21, 16]


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return bs.load_dataset("monkeys_pythia_math_brown2024")


@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 10.0), (1.0, 1.0), (0.1, 50.0), (2.0, 5.0)])
def test_beta_closed_form_matches_monte_carlo(alpha, beta):
    rng = np.random.default_rng(0)
    p = rng.beta(alpha, beta, size=400_000)
    for k in (1, 7, 100, 10_000):
        mc = -np.expm1(k * np.log1p(-p))
        se = mc.std() / np.sqrt(mc.size)
        assert abs(beta_pass_at_k(alpha, beta, k) - mc.mean()) < 5 * se + 1e-12


def test_estimator_agrees_with_the_product_form():
    n, k = 50, 7
    for c in range(n + 1):
        product = 1.0 if n - c < k else 1 - np.prod(1 - k / np.arange(n - c + 1, n + 1))
        assert pass_at_k(n, c, k) == pytest.approx(product, abs=1e-12)


def test_estimator_reproduces_source_reference_coverage(runs):
    order = runs.groupby("model")["N"].first().sort_values().index
    for k, expected in REFERENCE.items():
        cov = [pass_at_k(g.n_samples, g.n_correct, k).mean() for _, g in runs.groupby("model")]
        cov = pd.Series(cov, index=sorted(runs["model"].unique())).loc[order]
        np.testing.assert_allclose(cov.to_numpy(), expected, atol=5e-5)
    never = runs[runs.n_correct == 0].groupby("model").size().loc[order]
    assert never.tolist() == NEVER_SOLVED


def test_estimator_rejects_bad_input():
    with pytest.raises(ValueError, match="k must"):
        pass_at_k(10, 1, 11)
    with pytest.raises(ValueError, match="c must"):
        pass_at_k(10, 11, 1)


def test_subsample_is_hypergeometric_and_reproducible(runs):
    a = subsample_counts(runs, n_samples=100, random_seed=0)
    b = subsample_counts(runs, n_samples=100, random_seed=0)
    assert a["n_correct"].equals(b["n_correct"])
    assert (a["n_samples"] == 100).all()
    assert (a["n_correct"] <= runs["n_correct"]).all()
    assert (a["n_correct"][runs["n_correct"] == 0] == 0).all()
    # mean of a hypergeometric draw is 100·c/n
    assert a["n_correct"].sum() == pytest.approx((runs["n_correct"] / 100).sum(), rel=0.05)


def _fake_result(alpha: float = 0.3, beta: float = 10.0) -> PassAtKResult:
    counts = pd.DataFrame({"model": "m", "N": 1e9, "n_samples": 100, "n_correct": [0, 3, 50]})
    return PassAtKResult(
        models=["m"],
        N=np.array([1e9]),
        alpha=np.full((200, 1), alpha),
        beta=np.full((200, 1), beta),
        counts=counts,
    )


def test_samples_for_coverage_inverts_the_closed_form():
    res = _fake_result()
    table = samples_for_coverage(res, target=0.5)
    k = table["median"].iloc[0]
    assert beta_pass_at_k(0.3, 10.0, k) == pytest.approx(0.5, abs=1e-8)
    assert table["p_unreached"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="target"):
        samples_for_coverage(res, target=1.0)


def test_predictive_coverage_keeps_seen_successes():
    res = _fake_result()
    table = res.predict_coverage(k=[100, 10_000], n_total=10_000, random_seed=0)
    # two of the three problems were solved in the first 100 samples: at k = n they count
    assert table["lower"].iloc[1] >= 2 / 3 - 1e-12
    assert (table["lower"] <= table["median"]).all() and (table["median"] <= table["upper"]).all()
    assert isinstance(res.summary(), pd.DataFrame)
    assert isinstance(res.coverage(k=[1, 10]), pd.DataFrame)


def test_point_fit_recovers_an_exponentiated_power_law():
    # problems with coverage exactly exp(−a k^−b) are not constructible; check on a dense Beta
    rng = np.random.default_rng(1)
    p = rng.beta(0.4, 8.0, size=5000)
    counts = pd.DataFrame(
        {"model": "m", "N": 1e9, "n_samples": 1000, "n_correct": rng.binomial(1000, p)}
    )
    fit = point_fit_pass_at_k(counts)
    assert fit["a"].iloc[0] > 0 and 0 < fit["b"].iloc[0] < 1


@pytest.mark.slow
def test_heldout_coverage_on_pythia(runs):
    table = extrapolation_check(runs, n_seen=100, k=[1000, 10_000], random_seed=0)
    assert len(table) == 14
    assert int(table["covered"].sum()) >= 12
    assert table["abs_error"].median() < 0.05


def test_fit_and_subsample_reject_bad_counts():
    rows = pd.DataFrame({"model": "m", "N": 1e9, "n_samples": [10, 10], "n_correct": [3, 11]})
    with pytest.raises(ValueError, match="n_correct"):
        bs.fit_pass_at_k(rows)
    with pytest.raises(ValueError, match="missing"):
        bs.fit_pass_at_k(rows.drop(columns="N"))
    with pytest.raises(ValueError, match="at least n_samples"):
        subsample_counts(rows, n_samples=100)


def test_one_model_warns_that_the_size_trend_is_its_prior():
    rows = pd.DataFrame({"model": "m", "N": 1e9, "n_samples": [10, 10], "n_correct": [3, 5]})
    with pytest.warns(bs.DataWarning, match=r"one model \('m'\).*prior alone"):
        bs.fit_pass_at_k(rows, draws=20, tune=20, chains=1)
