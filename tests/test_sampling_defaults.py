"""The default NUTS settings of the default (``"nutpie"``) path."""

from __future__ import annotations

import inspect

import bayescale as bs
from bayescale.sampling import nuts


def test_default_target_accept_is_pinned_and_reaches_nutpie():
    # 0.95: at 0.9 a quarter of simulated 240-run Chinchilla fits had a divergence in the tail
    # of the E-exponent ridge (22 of 90; 0 of 90 at 0.95): see nuts.TARGET_ACCEPT
    assert nuts.TARGET_ACCEPT == 0.95
    default = inspect.signature(nuts.sample_nutpie).parameters["target_accept"].default
    assert default == nuts.TARGET_ACCEPT
    truth = bs.testing.BESIROGLU_TRUTH
    runs = bs.testing.simulate(
        "chinchilla", truth, bs.testing.chinchilla_design(240, random_seed=0), random_seed=0
    )
    kw = dict(draws=200, tune=200, chains=2, random_seed=0, progressbar=False, warn=False)
    stats = {
        ta: bs.fit("chinchilla", runs, **kw, **({} if ta is None else {"target_accept": ta})).idata[
            "sample_stats"
        ]
        for ta in (None, 0.9)
    }
    # the default adapts a smaller step than an explicit 0.9 and accepts more often
    assert float(stats[None]["step_size"].mean()) < 0.9 * float(stats[0.9]["step_size"].mean())
    assert float(stats[None]["acceptance_rate"].mean()) > float(
        stats[0.9]["acceptance_rate"].mean()
    )
