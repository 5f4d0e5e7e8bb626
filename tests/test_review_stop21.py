"""Regressions of stop 21's changes a user would hit, found by the stop-21 review, each held here.

* ``bs.fit`` checks its sampler keywords up front: nutpie's settings were checked against the
  low-rank adaptation's only, so options of ``adaptation="diag"`` (and the older spellings
  ``nutpie.sample`` still takes) that fitted before were refused.
* A fit records the sampler options its refits repeat: a default warm-up was recorded too, so a
  backtest's early cutoff (fewer than 10 runs per parameter, where ``default_tune`` is 1000)
  was refitted with the full fit's 500.
* The lazy log-likelihood: a second reader that finds it filled by a first (two threads
  reading ``fit.idata``) must not fail.
* ``secure_caches``: a folder writable by its owner's own group (umask 002, the default for
  users on Debian and Ubuntu) is private; it warned on such a normal setup.

Cheap: one fit of 30 runs x 20 draws, the rest without sampling.
"""

from __future__ import annotations

import os
import stat
import warnings

import pandas as pd
import pytest

import bayescale as bs
from bayescale.batch_options import check_shared_options
from bayescale.fit import default_tune
from bayescale.next_runs import _refit_kwargs
from bayescale.sampling import store

FAST = dict(draws=20, chains=1, progressbar=False, random_seed=0, warn=False, processes=1)


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(30, random_seed=1)


# ---------------------------------------------------- 1. nutpie's options of other adaptations


@pytest.mark.parametrize(
    "options",
    [
        {"adaptation": "diag", "use_grad_based_mass_matrix": False},  # nutpie pops it itself
        {"adaptation": "draw_diag", "mass_matrix_switch_freq": 40},
        {"low_rank_modified_mass_matrix": False},  # an older spelling nutpie.sample takes
    ],
)
def test_options_nutpie_takes_for_its_adaptation_are_accepted(options):
    for sampler in ("nutpie", "nutpie-compiled"):
        check_shared_options({"sampler": sampler, **options}, caller="fit", scope="")


def test_a_diag_option_fits_and_a_misspelt_one_is_still_refused(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # nutpie: the older spelling
        f = bs.fit(
            "chinchilla", runs, adaptation="diag", use_grad_based_mass_matrix=False, tune=20,
            **FAST,
        )  # fmt: skip
    assert f.posterior["alpha"].shape == (1, 20)
    with pytest.raises(TypeError, match=r"use_grad_based_mass_matrx.*did you mean"):
        check_shared_options(
            {"adaptation": "diag", "use_grad_based_mass_matrx": False}, caller="fit", scope=""
        )
    # a nested setting is no keyword: the hint does not suggest the name refused
    with pytest.raises(TypeError, match=r"gamma=\.\.\.\).*not a keyword nutpie takes") as err:
        check_shared_options({"gamma": 1e-4}, caller="fit", scope="")
    assert "did you mean 'gamma'" not in str(err.value)
    with pytest.raises(TypeError, match=r"jitter.*an option of sampler='nutpie' only"):
        check_shared_options({"sampler": "nutpie-compiled", "jitter": 0.5}, caller="fit", scope="")


# ------------------------------------------------ 2. a default warm-up is chosen per refit


def test_a_default_warm_up_is_not_carried_to_a_refit_on_fewer_runs(runs, monkeypatch):
    law = bs.get_law("chinchilla")
    # 30 runs for 5 parameters: below 10 per parameter; 60 would be 500 from the mode
    assert default_tune(law, "nutpie", n_runs=30) == 1000
    assert default_tune(law, "nutpie", n_runs=60) == 500
    f = bs.fit("chinchilla", runs, target_accept=0.9, tune=None, **FAST)
    kwargs = _refit_kwargs(f, None)
    assert "tune" not in kwargs and kwargs["target_accept"] == 0.9  # re-chosen at each refit
    g = bs.fit("chinchilla", runs, tune=25, **{**FAST, "draws": 5})
    assert _refit_kwargs(g, None)["tune"] == 25  # a warm-up given is repeated


# ------------------------------------------------------- 3. the lazy log-likelihood, twice


def test_filling_the_log_likelihood_after_another_reader_did_is_harmless(runs):
    from bayescale._fit_common import fill_log_likelihood

    f = bs.fit("chinchilla", runs, tune=20, **{**FAST, "draws": 5})
    first = f.idata["log_likelihood"].to_dataset()  # the first reader filled it
    fill_log_likelihood(f)  # a second thread that looked before the first cleared the flag
    assert f.idata["log_likelihood"].to_dataset().identical(first)


# ------------------------------------------------- 4. a folder its owner's own group may write


def _own_group_is_private() -> bool:
    return store._private_group(os.getgid(), os.getuid())


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no user ids on this platform")
def test_a_folder_writable_by_its_owners_own_group_is_private(tmp_path):
    if not _own_group_is_private():
        pytest.skip("this user's primary group is shared with others")
    os.chmod(tmp_path, 0o700)
    mine = tmp_path / "cache"
    mine.mkdir(mode=0o775)
    os.chmod(mine, 0o775)  # what umask 002 gives
    assert os.stat(mine).st_mode & stat.S_IWGRP
    assert store.private_dir_ok(mine)
    assert store.private_dir_ok(mine / "numba")  # created below it later
    os.chmod(mine, 0o777)  # others may write: still refused
    assert not store.private_dir_ok(mine)


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="chgrp to a shared group needs root"
)
def test_a_folder_writable_by_a_shared_group_is_still_refused(tmp_path):
    os.chmod(tmp_path, 0o700)
    shared = tmp_path / "cache"
    shared.mkdir()
    os.chmod(shared, 0o775)
    os.chown(shared, -1, 65534)  # "nogroup": not root's own group
    assert not store.private_dir_ok(shared)


def test_a_pooled_fits_group_view_leaves_its_log_likelihood_uncomputed():
    from bayescale.pooling import group_view

    frames = []
    for k in range(2):
        part = bs.testing.simulate_chinchilla(20, random_seed=k)
        part["corpus"] = f"g{k}"
        frames.append(part)
    runs = pd.concat(frames, ignore_index=True)
    f = bs.fit("chinchilla", runs, group="corpus", tune=20, **{**FAST, "draws": 10})
    view = group_view(f, "g1")
    assert f._loglik_pending is not None  # the view read draws and statistics only
    assert view.sample_stats["diverging"].shape == (1, 10)
    assert dict(view.idata.attrs) == dict(f.idata.attrs)


# ------------------------------------------- 5. a fit made from given draws refits with NUTS


def test_a_fit_from_given_draws_refits_with_the_default_sampler(runs):
    pinned = bs.testing.pinned_fit(random_seed=0, data=runs, chains=1, draws=20)
    assert pinned.sampler == "pinned"  # no sampler of bs.fit: a backtest refused to refit it
    kwargs = _refit_kwargs(pinned, None)
    assert "sampler" not in kwargs
    check_shared_options(kwargs, caller="fit")  # what bs.fit checks of its keywords
    f = bs.fit("chinchilla", runs, sampler="nutpie-compiled", tune=20, **{**FAST, "draws": 5})
    assert _refit_kwargs(f, None)["sampler"] == "nutpie-compiled"
