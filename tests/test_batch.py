"""``bs.fit_many``: a batch's draws do not depend on where or in what order its jobs run, and a
failing job fails alone."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest

import bayescale as bs

KW = dict(draws=40, tune=40, chains=2, warn=False)


def _jobs() -> list[bs.FitJob]:
    """Four tiny jobs: two data sets × two seeds, one with the Normal likelihood (a second model
    structure), one with bad data (a negative loss)."""
    a = bs.testing.simulate_chinchilla(n=30, random_seed=1)
    b = bs.testing.simulate_chinchilla(n=36, random_seed=2)
    bad = a.copy()
    bad.loc[bad.index[3], "loss"] = -1.0
    return [
        bs.FitJob("chinchilla", a, {"random_seed": 5}),
        bs.FitJob("chinchilla", b, {"random_seed": 6, "likelihood": "normal"}),
        bs.FitJob("chinchilla", bad, {"random_seed": 7}, name="bad data"),
        bs.FitJob("chinchilla", b, {"random_seed": 5}),
    ]


def _draws(fit: bs.Fit) -> dict[str, np.ndarray]:
    out = {k: v.to_numpy() for k, v in fit.posterior.data_vars.items()}
    out["lp"] = fit.idata["sample_stats"]["lp"].to_numpy()
    return out


def _check_batch(result: bs.BatchResult, reference: list[dict] | None = None) -> list[dict]:
    assert len(result) == 4 and [r.index for r in result] == [0, 1, 2, 3]
    assert [r.ok for r in result] == [True, True, False, True]
    failed = result.failures
    assert len(failed) == 1 and failed[0].job.name == "bad data"
    assert isinstance(failed[0].error, ValueError) and "loss" in failed[0].message
    assert "bad data" in str(result) and result.fits[2] is None
    table = result.summary()
    assert table["ok"].tolist() == [r.ok for r in result] and "bad data" in table["label"][2]
    assert "must be > 0" in table["error"][2]
    draws = [_draws(f) if f is not None else {} for f in result.fits]
    assert result.fits[1].likelihood.name == "normal"
    assert [f.random_seed for f in result.fits if f is not None] == [5, 6, 5]
    if reference is not None:
        for mine, theirs in zip(draws, reference, strict=True):
            assert mine.keys() == theirs.keys()
            for name in mine:
                assert np.array_equal(mine[name], theirs[name]), name
    return draws


@pytest.fixture(scope="module")
def serial():
    return bs.fit_many(_jobs(), processes=1, progressbar=False, **KW)


def test_serial_batch_matches_fit_and_reports_the_failure(serial):
    reference = _check_batch(serial)
    # a job's draws are those of bs.fit with the same arguments, in any position
    job = _jobs()[3]
    alone = bs.fit(job.law, job.data, processes=1, progressbar=False, **job.kwargs, **KW)
    for name, values in _draws(alone).items():
        assert np.array_equal(values, reference[3][name]), name
    # different data, same seed: different draws
    assert not np.array_equal(reference[0]["alpha"], reference[3]["alpha"])
    with pytest.raises(ValueError, match="loss"):
        serial.raise_on_failure()


def test_local_processes_give_the_same_draws(serial):
    reference = [_draws(f) if f is not None else {} for f in serial.fits]
    result = bs.fit_many(_jobs(), processes=2, progressbar=False, **KW)
    _check_batch(result, reference)
    assert len({r.worker for r in result}) >= 1
    # fits come back without their PyMC model, which is rebuilt on demand and pickles cleanly
    fit = result.fits[0]
    assert fit._model is None and fit.model is not None
    fit._model = None
    assert np.array_equal(
        pickle.loads(pickle.dumps(fit)).posterior["alpha"], fit.posterior["alpha"]
    )


def test_dask_local_cluster_gives_the_same_draws(serial):
    distributed = pytest.importorskip("distributed")
    reference = [_draws(f) if f is not None else {} for f in serial.fits]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = bs.fit_many(_jobs(), client=client, progressbar=False, **KW)
    _check_batch(result, reference)
    assert "Dask" in result.where


def test_warnings_come_back_with_the_job_label():
    runs = bs.testing.simulate_chinchilla(n=6, random_seed=3)
    with pytest.warns(bs.SmallDataWarning, match=r"^tiny: chinchilla: 6 runs"):
        out = bs.fit_many(
            [bs.FitJob("chinchilla", runs, {"random_seed": 1}, name="tiny")],
            processes=1,
            progressbar=False,
            **KW,
        )
    assert out.ok and out[0].warnings


def test_bad_jobs_are_refused_up_front():
    runs = bs.testing.simulate_chinchilla(n=30, random_seed=1)
    with pytest.raises(TypeError, match="FitJob"):
        bs.fit_many(["chinchilla"], progressbar=False)
    with pytest.raises(ValueError, match="processes"):
        bs.fit_many([bs.FitJob("chinchilla", runs, {"processes": 2})], progressbar=False)
    with pytest.raises(ValueError, match="processes"):
        bs.fit_many([("chinchilla", runs)], processes=0, progressbar=False)


def test_rolling_backtest_runs_as_a_batch():
    """A rolling backtest fits its cutoffs through fit_many: cutoff i's fit is bs.fit on the
    runs below it with random_seed + i, in whatever processes; a failing fit names its cutoff."""
    runs = bs.testing.simulate_chinchilla(n=60, random_seed=8)
    kw = dict(draws=40, tune=40, chains=2, warn=False, random_seed=3)
    bt = bs.backtest("chinchilla", runs, split={"N": [1e9, 3e9]}, processes=2, **kw)
    serial = bs.backtest("chinchilla", runs, split={"N": [1e9, 3e9]}, processes=1, **kw)
    assert bt.table.equals(serial.table) and bt.metrics.equals(serial.metrics)
    for i, cutoff in enumerate([1e9, 3e9]):
        train = runs[runs["N"] < cutoff]
        alone = bs.fit("chinchilla", train, **{**kw, "random_seed": 3 + i}, progressbar=False)
        for name, values in _draws(alone).items():
            assert np.array_equal(values, _draws(bt.fits[cutoff])[name]), name
    with pytest.raises(ValueError, match=r"fitting the \d+ runs with N < 1e\+09 failed: .*nope"):
        bs.backtest(
            "chinchilla",
            runs,
            split={"N": [1e9, 3e9]},
            priors={"nope": bs.Prior("Normal", mu=0, sigma=1)},
            **kw,
        )


def _alpha_median(fit: bs.Fit) -> float:
    return float(fit.posterior["alpha"].median())


def test_reduce_runs_in_the_worker(serial):
    """With reduce=, only its value comes back; an error it raises is that job's error."""
    jobs = _jobs()
    out = bs.fit_many(jobs, processes=2, progressbar=False, reduce=_alpha_median, **KW)
    assert out.fits == [None] * 4
    assert out.values[2] is None and not out[2].ok
    for value, fit in zip(out.values, serial.fits, strict=True):
        if fit is not None:
            assert value == _alpha_median(fit)
    fails = bs.fit_many(jobs[:1], processes=1, progressbar=False, reduce=lambda f: 1 / 0, **KW)
    assert isinstance(fails[0].error, ZeroDivisionError) and "1 / 0" in fails[0].traceback
