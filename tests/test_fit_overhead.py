"""What ``bs.fit`` skips or batches to save time changes no number: the pointwise
log-likelihood computed on first access equals the one built with the fit, to the bit, for
every consumer (the tree, a saved file, a fit sent between processes), and the summary's
vectorised statistics equal the per-row NumPy ones."""

from __future__ import annotations

import sys

import cloudpickle
import numpy as np
import pytest

import bayescale as bs
from bayescale import convergence

KW = dict(draws=100, tune=100, chains=2, random_seed=5, progressbar=False, warn=False)
fit_module = sys.modules["bayescale.fit"]


def _arrays(tree) -> dict:
    return {
        (group, name): node[name].to_numpy()
        for group, node in tree.children.items()
        for name in node.to_dataset().variables
    }


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(n=40, random_seed=3)


@pytest.fixture(scope="module")
def eager(runs):
    old = fit_module.LAZY_LOG_LIKELIHOOD
    fit_module.LAZY_LOG_LIKELIHOOD = False
    try:
        f = bs.fit("chinchilla", runs, groups="N", **KW)
    finally:
        fit_module.LAZY_LOG_LIKELIHOOD = old
    assert "log_likelihood" in f._idata.children
    return f


@pytest.fixture(scope="module")
def lazy_fit(runs):
    f = bs.fit("chinchilla", runs, groups="N", **KW)
    f._model = None  # as a batch job's fit: the PyMC model does not travel
    assert "log_likelihood" not in f._idata.children  # not computed by fit
    return f


def _lazy(lazy_fit):
    """A copy of the lazy fit whose tree was never accessed (as a batch job's fit travels)."""
    f = cloudpickle.loads(cloudpickle.dumps(lazy_fit))
    assert "log_likelihood" not in f._idata.children
    return f


def _same_tree(a, b):
    assert list(a.children) == list(b.children)  # group order too
    assert a.attrs == b.attrs
    assert a.identical(b)
    left, right = _arrays(a), _arrays(b)
    assert left.keys() == right.keys()
    for key, value in left.items():
        assert value.dtype == right[key].dtype, key
        assert np.array_equal(value, right[key], equal_nan=value.dtype.kind == "f"), key


def test_lazy_log_likelihood_equals_the_eager_one_to_the_bit(lazy_fit, eager):
    lazy = _lazy(lazy_fit)
    # summaries and diagnostics do not need it
    lazy.summary(kind="all")
    lazy.diagnostics()
    assert "log_likelihood" not in lazy._idata.children
    _same_tree(lazy.idata, eager.idata)
    ll = lazy.idata["log_likelihood"]["log_loss"]
    assert ll.dims == ("chain", "draw", "run") and ll.shape == (2, 100, 40)
    # group offsets enter it: an independent recomputation from the draws
    from bayescale.posterior import pointwise_loglik

    const = eager.idata["constant_data"].to_dataset()
    again = pointwise_loglik(
        eager.law, eager.likelihood, eager.posterior,
        {k: const[k].to_numpy() for k in eager.law.inputs},
        eager.idata["observed_data"]["log_loss"].to_numpy(), {}, eager.structure,
        eager.group_codes(),
    )  # fmt: skip
    assert np.array_equal(ll.to_numpy(), again)


def test_a_saved_or_pickled_lazy_fit_carries_the_same_log_likelihood(lazy_fit, eager, tmp_path):
    _same_tree(_lazy(lazy_fit).idata, eager.idata)
    path = _lazy(lazy_fit).save(str(tmp_path / "lazy.nc"))  # saved before any access
    loaded = bs.Fit.load(path)
    ref = bs.Fit.load(eager.save(str(tmp_path / "eager.nc")))
    _same_tree(loaded.idata, ref.idata)
    assert "log_likelihood" in loaded.idata.children
    # ArviZ's PSIS-LOO (bs.compare) reads it from the tree of a fit never accessed before
    table = bs.compare({"lazy": _lazy(lazy_fit), "eager": eager}, warn=False)
    assert table.loc["lazy", "elpd"] == table.loc["eager", "elpd"]
    lazy2 = _lazy(lazy_fit)
    lazy2.idata = eager.idata.copy()  # setting the tree drops the pending group
    _same_tree(lazy2.idata, eager.idata)


def test_summary_statistics_equal_the_per_row_numpy_ones(eager):
    from bayescale._fit_common import _labels

    table = eager.summary(kind="all")
    post = eager.posterior
    seen = 0
    for name in post.data_vars:
        da = post[name].transpose("chain", "draw", ...)
        arr = da.to_numpy()
        for idx in np.ndindex(*arr.shape[2:]):
            x = arr[(slice(None), slice(None), *idx)]
            label = name if not idx else f"{name}[{','.join(_labels(da, idx))}]"
            flat = x.ravel()
            expect = {
                "mean": flat.mean(),
                "sd": flat.std(ddof=1),
                "median": np.median(flat),
                "ci95_lo": np.quantile(flat, (1 - 0.95) / 2),  # as summary computes it
                "ci95_hi": np.quantile(flat, 1 - (1 - 0.95) / 2),
                "ess_bulk": convergence.ess(x, method="bulk"),
                "ess_tail": convergence.ess(x, method="tail", prob=(0.05, 0.95)),
                "r_hat": convergence.rhat(x),
            }
            for column, value in expect.items():
                got = table.loc[label, column]
                assert np.array_equal(got, value, equal_nan=True), (label, column, got, value)
            seen += 1
    assert seen == len(table) > 10  # group_z_N has one row per model size
