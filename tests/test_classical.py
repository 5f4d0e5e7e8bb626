"""Tests for the classical (Besiroglu et al. 2024) baseline in ``benchmarks/classical.py``."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import huber

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _load_classical():
    path = REPO_ROOT / "benchmarks" / "classical.py"
    spec = importlib.util.spec_from_file_location("bayescale_benchmarks_classical", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


classical = _load_classical()

# Plain summed-Huber grid fit (no scale parameter), Besiroglu et al. notebook.
PLAIN_GRID_REF = {"A": 477.8, "B": 2143.9, "E": 1.8172, "alpha": 0.34731, "beta": 0.36718}

# A handful of starts (4) from Besiroglu's grid axes, not the full 4500.
SMALL_GRID = {"a": [5.0, 10.0], "b": [5.0, 10.0], "e": [0.5], "alpha": [0.5], "beta": [0.5]}


def _data_csv():
    env = os.environ.get("BAYESCALE_DATA_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "chinchilla_besiroglu2024" / "svg_extracted_data.csv"


@pytest.fixture(scope="module")
def chinchilla_logs():
    csv = _data_csv()
    if not csv.is_file():
        pytest.skip(
            f"Chinchilla CSV not found at {csv} "
            "(set BAYESCALE_DATA_DIR or place the data under ../shared/data)"
        )
    N, D, L = classical.load_chinchilla(csv)
    return np.log(N), np.log(D), np.log(L)


def _synthetic(theta, n=60, noise=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    logN = rng.uniform(np.log(7e7), np.log(1.6e10), n)
    logD = rng.uniform(np.log(5e9), np.log(5e11), n)
    a, b, e, alpha, beta = theta
    logLhat = np.logaddexp(np.logaddexp(a - alpha * logN, b - beta * logD), e)
    return logN, logD, logLhat + noise * rng.standard_normal(n)


def test_objective_value_matches_scipy_huber():
    theta = np.array([6.0, 7.5, 0.6, 0.35, 0.37])
    logN, logD, logL = _synthetic(theta, noise=2e-3)
    value, _ = classical.huber_objective(theta, logN, logD, logL, delta=1e-3)
    a, b, e, alpha, beta = theta
    r = np.logaddexp(np.logaddexp(a - alpha * logN, b - beta * logD), e) - logL
    # both Huber branches are exercised
    assert (np.abs(r) < 1e-3).any() and (np.abs(r) > 1e-3).any()
    np.testing.assert_allclose(value, huber(1e-3, r).sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "theta",
    [
        [6.1, 7.7, 0.59, 0.347, 0.367],
        [5.0, 10.0, 0.5, 0.5, 0.5],
        [20.0, 0.0, -1.0, 1.5, 0.0],
        [0.0, 25.0, 1.0, 0.0, 2.0],
    ],
)
def test_gradient_matches_finite_differences(theta):
    theta = np.asarray(theta, dtype=np.float64)
    logN, logD, logL = _synthetic(np.array([6.0, 7.5, 0.6, 0.35, 0.37]), noise=2e-3)
    _, grad = classical.huber_objective(theta, logN, logD, logL)
    h = 1e-6
    fd = np.empty(5)
    for k in range(5):
        step = np.zeros(5)
        step[k] = h
        fp = classical.huber_objective(theta + step, logN, logD, logL)[0]
        fm = classical.huber_objective(theta - step, logN, logD, logL)[0]
        fd[k] = (fp - fm) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-9 * max(1.0, np.abs(fd).max()))


def test_gradient_on_real_data(chinchilla_logs):
    logN, logD, logL = chinchilla_logs
    theta = np.array([6.17, 7.67, 0.597, 0.347, 0.367])
    _, grad = classical.huber_objective(theta, logN, logD, logL)
    h = 1e-7
    fd = np.array(
        [
            (
                classical.huber_objective(theta + h * np.eye(5)[k], logN, logD, logL)[0]
                - classical.huber_objective(theta - h * np.eye(5)[k], logN, logD, logL)[0]
            )
            / (2 * h)
            for k in range(5)
        ]
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-10)


def test_default_grid_is_besiroglu_grid():
    grid = classical.default_grid()
    assert grid.shape == (4500, 5)
    assert len({tuple(row) for row in grid}) == 4500
    np.testing.assert_array_equal(np.unique(grid[:, 0]), [0, 5, 10, 15, 20, 25])
    np.testing.assert_array_equal(np.unique(grid[:, 1]), [0, 5, 10, 15, 20, 25])
    np.testing.assert_array_equal(np.unique(grid[:, 2]), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_array_equal(np.unique(grid[:, 3]), [0, 0.5, 1, 1.5, 2])
    np.testing.assert_array_equal(np.unique(grid[:, 4]), [0, 0.5, 1, 1.5, 2])


def test_fit_recovers_synthetic_truth():
    truth = np.array([6.0, 7.5, 0.6, 0.35, 0.37])
    logN, logD, logL = _synthetic(truth, n=80, noise=0.0)
    fit = classical.fit_grid(logN, logD, logL, grid=SMALL_GRID)
    assert fit.n_starts == 4
    np.testing.assert_allclose(fit.theta, truth, atol=1e-4)


def test_small_grid_fit_matches_plain_huber_reference(chinchilla_logs):
    logN, logD, logL = chinchilla_logs
    assert logN.size == 240
    fit = classical.fit_grid(logN, logD, logL, grid=SMALL_GRID)
    assert fit.n_starts == 4
    assert np.isfinite(fit.fun)
    params = fit.params
    for name in ("A", "B", "E"):
        assert params[name] == pytest.approx(PLAIN_GRID_REF[name], rel=0.01), name
    for name in ("alpha", "beta"):
        assert params[name] == pytest.approx(PLAIN_GRID_REF[name], abs=5e-4), name


def test_tiny_bootstrap_runs(chinchilla_logs):
    logN, logD, logL = chinchilla_logs
    start = classical.fit_grid(logN, logD, logL, grid=SMALL_GRID).theta
    boot = classical.bootstrap(logN, logD, logL, n_boot=20, seed=42, start=start)
    assert boot.shape == (20, 5)
    assert np.all(np.isfinite(boot))
    # refits actually move away from the start
    assert np.ptp(boot[:, 3]) > 1e-3

    summary = classical.summarize_bootstrap(start, boot)
    assert set(summary) == set(classical.PARAM_NAMES)
    for name, s in summary.items():
        vals = [s["estimate"], s["se"], s["ci_low"], s["ci_high"]]
        assert np.all(np.isfinite(vals)), name
        assert s["se"] > 0 and s["ci_low"] <= s["ci_high"], name

    # same draws in worker processes
    par = classical.bootstrap(logN, logD, logL, n_boot=6, seed=42, start=start, n_jobs=2)
    np.testing.assert_array_equal(par, boot[:6])


def test_run_classical_small(chinchilla_logs):
    logN, logD, logL = chinchilla_logs
    out = classical.run_classical(
        np.exp(logN), np.exp(logD), np.exp(logL), n_boot=10, seed=0, grid=SMALL_GRID
    )
    for key in ("grid_s", "bootstrap_s", "total_s"):
        assert out[key] >= 0
    assert out["total_s"] >= out["grid_s"]
    assert out["n_starts"] == 4 and out["boot"].shape == (10, 5)
    assert set(out["estimate"]) == set(classical.PARAM_NAMES)
    assert out["estimate"]["alpha"] == pytest.approx(PLAIN_GRID_REF["alpha"], abs=5e-4)


def test_batched_objective_and_lbfgs_match_the_one_start_versions(chinchilla_logs):
    logN, logD, logL = chinchilla_logs
    starts = classical.default_grid()[::500]  # 9 starts spread over the grid
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 3, size=(len(starts), logN.size)).astype(float)
    values, grads = classical.huber_objective_batch(starts, logN, logD, logL, weights)
    for k, theta in enumerate(starts):
        idx = np.repeat(np.arange(logN.size), weights[k].astype(int))
        value, grad = classical.huber_objective(theta, logN[idx], logD[idx], logL[idx])
        np.testing.assert_allclose(values[k], value, rtol=1e-12)
        np.testing.assert_allclose(grads[k], grad, rtol=1e-9, atol=1e-12)
    # the best of the starts optimised together is SciPy's best (one start at a time), and
    # every converged start ends at a stationary point (starts may reach different local optima)
    fun = classical._batch_fun(logN, logD, logL, 1e-3)
    x, f, converged, _ = classical.lbfgs_batch(fun, starts, **classical.BATCH_OPTIONS)
    scipy_f = np.array([classical.refit(s0, logN, logD, logL).fun for s0 in starts])
    best = int(np.argmin(f))
    assert f[best] == pytest.approx(scipy_f.min(), rel=1e-9)
    assert converged.sum() >= len(starts) - 2
    _, g_end = classical.huber_objective_batch(x[converged], logN, logD, logL)
    assert np.abs(g_end).max() < 1e-6
    # a row's path does not depend on the rows optimised with it
    alone = classical.lbfgs_batch(fun, starts[best : best + 1], **classical.BATCH_OPTIONS)[0]
    np.testing.assert_array_equal(alone[0], x[best])
