"""next_runs on a stack with refits (tiny NUTS runs): members refitted with the outcome, mixed
with weights updated by each member's predictive density of it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import bayescale as bs
from bayescale.next_runs import refit_with_runs

pytestmark = pytest.mark.slow

FIT_KWARGS = {"draws": 100, "tune": 100, "chains": 1}


def test_refitted_outcomes_of_a_stack():
    runs = bs.testing.simulate_chinchilla(40, random_seed=4)
    t = bs.testing.pinned_fit(random_seed=0, data=runs, chains=1, draws=100)
    u = bs.testing.pinned_fit(
        random_seed=1, data=runs, chains=1, draws=100, truth={**bs.testing.BESIROGLU_TRUTH,
                                                              "E": 1.84}
    )  # fmt: skip
    st = bs.stack({"t": t, "u": u}, weights={"t": 0.5, "u": 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bs.next_runs(st, {"N": [3e8], "D": [6e9]}, compute=1e22, n_outcomes=2,
                           k_threshold=-100.0, fit_kwargs=FIT_KWARGS, random_seed=0,
                           processes=1)  # fmt: skip
    out = res.outcomes
    assert out["refit"].all() and res.candidates.loc[0, "n_refit"] == 2
    # the reference: the same refits (seeds as next_runs draws them), weights w_k · p_k(y) with
    # p_k(y) the mean Student-t density of log y over member k's draws (scipy), the mixture's
    # N*(1e22) interval from bs.stack and compute_optimal
    ss = np.random.SeedSequence(0)
    refit_seed = int(ss.spawn(3)[2].generate_state(1)[0])
    seeds = np.random.SeedSequence(refit_seed).generate_state(2).tolist()
    added = [{"N": 3e8, "D": 6e9, "loss": y} for y in out["loss"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refits = {
            name: refit_with_runs(f, added, None, seeds=seeds, fit_kwargs=FIT_KWARGS, processes=1)
            for name, f in st.fits.items()
        }
    for i, y in enumerate(out["loss"]):
        log_p = {}
        for name, f in st.fits.items():
            mu = np.log(bs.predict_loss(f, N=3e8, D=6e9).to_numpy().ravel())
            sigma = f.posterior["sigma"].to_numpy().ravel()
            nu = f.posterior["nu"].to_numpy().ravel()
            dens = stats.t.logpdf(np.log(y), nu, loc=mu, scale=sigma)
            log_p[name] = logsumexp(dens) - np.log(dens.size)
        w = {k: 0.5 * np.exp(v - max(log_p.values())) for k, v in log_p.items()}
        total = sum(w.values())
        mixed = bs.stack(
            {k: refits[k][i] for k in st.names}, weights={k: v / total for k, v in w.items()}
        )
        n_opt = bs.compute_optimal(mixed, 1e22)["N_opt"].to_numpy().ravel()
        lo, hi = np.quantile(n_opt, [0.025, 0.975], method="hazen")
        assert out.loc[i, "width"] == pytest.approx(hi - lo, rel=1e-9)
        assert out.loc[i, "sd"] == pytest.approx(np.std(np.log(n_opt)), rel=1e-9)
