"""bayescale.convergence against arviz_stats (rounding-level agreement) and a closed form."""

from __future__ import annotations

import numpy as np
import pytest

from bayescale import convergence


def _ar1(rng, phi, n_chain, n_draw):
    """Stationary Gaussian AR(1) chains with coefficient ``phi``."""
    noise = rng.normal(size=(n_chain, n_draw))
    x = np.empty((n_chain, n_draw))
    x[:, 0] = noise[:, 0] / np.sqrt(1 - phi**2)
    for t in range(1, n_draw):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def _cases():
    rng = np.random.default_rng(20210601)
    with_nan = rng.normal(size=(4, 1000))
    with_nan[2, 417] = np.nan
    with_inf = rng.normal(size=(4, 1000))
    with_inf[rng.random((4, 1000)) < 0.01] = np.inf
    return {
        "iid_normal": rng.normal(size=(4, 1000)),
        "ar1_phi0.9": _ar1(rng, 0.9, 4, 1000),
        "ar1_phi0.99": _ar1(rng, 0.99, 4, 1000),
        "shifted_means": rng.normal(size=(4, 1000)) + 0.5 * np.arange(4)[:, None],
        "student_t_1.5": rng.standard_t(1.5, size=(4, 1000)),
        "integer_ties": rng.poisson(2.0, size=(4, 1000)).astype(float),
        "rare_binary": (rng.random((4, 1000)) < 0.01).astype(float),
        "constant": np.full((4, 1000), 2.5),
        "one_nan": with_nan,
        "with_inf": with_inf,
        "one_chain": rng.normal(size=(1, 1000)),
        "4x10": rng.normal(size=(4, 10)),
        "3x11_odd": _ar1(rng, 0.5, 3, 11),
        "2x5": rng.normal(size=(2, 5)),
        "4x4": rng.normal(size=(4, 4)),
        "4x3_too_short": rng.normal(size=(4, 3)),
    }


CASES = _cases()


def _arviz(x, kind):
    from arviz_stats.base import array_stats

    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "rhat":
            return float(array_stats.rhat(x, chain_axis=0, draw_axis=1))
        prob = (0.05, 0.95) if kind == "tail" else None
        return float(array_stats.ess(x, chain_axis=0, draw_axis=1, method=kind, prob=prob))


def _ours(x, kind):
    if kind == "rhat":
        return convergence.rhat(x)
    return convergence.ess(x, method=kind, prob=(0.05, 0.95))


@pytest.mark.parametrize("kind", ["bulk", "tail", "rhat"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_arviz_stats(case, kind):
    x = CASES[case]
    ours, ref = _ours(x, kind), _arviz(x, kind)
    assert isinstance(ours, float)
    if np.isnan(ref):
        assert np.isnan(ours)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-8)


def test_edge_cases_have_the_expected_values():
    assert np.isnan(convergence.rhat(CASES["constant"]))
    assert convergence.ess(CASES["constant"]) == 4000.0
    assert np.isnan(convergence.rhat(CASES["one_chain"]))
    assert np.isfinite(convergence.ess(CASES["one_chain"]))
    for kind in ["bulk", "tail", "rhat"]:
        assert np.isnan(_ours(CASES["one_nan"], kind))
        assert np.isnan(_ours(CASES["4x3_too_short"], kind))
    assert convergence.rhat(CASES["shifted_means"]) > 1.01
    assert convergence.rhat(CASES["ar1_phi0.99"]) > 1.01


def test_bulk_ess_matches_ar1_closed_form():
    # integrated autocorrelation time of AR(1) is (1 + phi) / (1 - phi)
    rng = np.random.default_rng(7)
    phi, n_chain, n_draw = 0.6, 4, 20_000
    x = _ar1(rng, phi, n_chain, n_draw)
    expected = n_chain * n_draw * (1 - phi) / (1 + phi)
    assert convergence.ess(x) == pytest.approx(expected, rel=0.10)


def test_single_tail_probability_and_bad_input():
    x = CASES["ar1_phi0.9"]
    assert convergence.ess(x, method="tail", prob=0.05) == convergence.ess(x, method="tail")
    with pytest.raises(ValueError, match="method"):
        convergence.ess(x, method="mean")
    with pytest.raises(ValueError, match="chain, draw"):
        convergence.rhat(np.zeros((2, 10, 3)))


def test_no_arviz_or_scipy_stats_import():
    # load the module file alone in a fresh interpreter (importing the package takes seconds)
    import subprocess
    import sys

    code = (
        "import importlib.util, sys, numpy as np; "
        f"spec = importlib.util.spec_from_file_location('conv', {convergence.__file__!r}); "
        "c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c); "
        "x = np.random.default_rng(0).normal(size=(4, 100)); "
        "c.rhat(x); c.ess(x); c.ess(x, method='tail'); "
        "print(sorted(m for m in sys.modules if m.startswith(('arviz', 'scipy.stats'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_diagnose_equals_the_one_row_functions_and_arviz_stats():
    """``diagnose`` (every row in one pass, as ``Fit.summary`` uses it) gives the one-row
    functions' numbers to the bit, rows of one shape stacked together or alone, and so
    arviz_stats' to 1e-10."""
    by_shape: dict[tuple, list[str]] = {}
    for case, x in CASES.items():
        by_shape.setdefault(x.shape, []).append(case)
    for cases in by_shape.values():
        stacked = np.stack([CASES[c] for c in cases])
        for rows, names in ((stacked, cases), *((stacked[[i]], [c]) for i, c in enumerate(cases))):
            bulk, tail, r_hat = convergence.diagnose(rows)
            for i, case in enumerate(names):
                for kind, got in (("bulk", bulk[i]), ("tail", tail[i]), ("rhat", r_hat[i])):
                    one, ref = _ours(CASES[case], kind), _arviz(CASES[case], kind)
                    assert np.array_equal(got, one, equal_nan=True), (case, kind, got, one)
                    if np.isnan(ref):
                        assert np.isnan(got), (case, kind)
                    else:
                        np.testing.assert_allclose(got, ref, rtol=1e-10, err_msg=f"{case} {kind}")
    with pytest.raises(ValueError, match="quantity, chain, draw"):
        convergence.diagnose(np.zeros((4, 10)))
