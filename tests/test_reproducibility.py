"""A fit's draws depend only on data, law, priors, settings and ``random_seed``: not on the number
of processes, the state of the caches or the fit's position in a batch."""

from __future__ import annotations

import numpy as np

import bayescale as bs
from bayescale import sampling

KW = dict(draws=50, tune=50, random_seed=11, progressbar=False, warn=False)


def _draws(fit: bs.Fit) -> dict[str, np.ndarray]:
    """Every sampled variable and the per-draw sampler statistics, as arrays."""
    out = {f"posterior/{k}": v.to_numpy() for k, v in fit.posterior.data_vars.items()}
    stats = fit.idata["sample_stats"].to_dataset()
    out.update({f"stats/{k}": stats[k].to_numpy() for k in ("lp", "n_steps", "step_size")})
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def test_draws_do_not_depend_on_the_number_of_processes():
    """Each chain has its own seed: one, two or three processes give the same draws, and a
    chain's draws do not depend on how many chains are run."""
    runs = bs.testing.simulate_chinchilla(n=40, seed=6)
    one = bs.fit("chinchilla", runs, chains=3, processes=1, **KW)
    two = bs.fit("chinchilla", runs, chains=3, processes=2, **KW)
    three = bs.fit("chinchilla", runs, chains=3, processes=3, **KW)
    _assert_same(_draws(one), _draws(two))
    _assert_same(_draws(one), _draws(three))
    assert list(two.posterior["chain"].to_numpy()) == [0, 1, 2]
    # chain 1 of a two-chain fit is chain 1 of the three-chain fit
    pair = bs.fit("chinchilla", runs, chains=2, processes=2, **KW)
    for name, values in _draws(pair).items():
        assert np.array_equal(values, _draws(one)[name][:2]), name
    # and the chains are not copies of one another
    alpha = one.posterior["alpha"].to_numpy()
    assert not np.array_equal(alpha[0], alpha[1])


def test_chain_seeds_depend_on_seed_and_chain_only():
    seeds = [sampling.chain_seed(11, c) for c in range(4)]
    assert [s[0] for s in seeds] == [sampling.chain_seed(11, c)[0] for c in range(4)]
    assert len({s[0] for s in seeds}) == 4
    assert sampling.chain_seed(12, 0)[0] != seeds[0][0]
    a = sampling.chain_seed(11, 2)[1].standard_normal(3)
    b = sampling.chain_seed(11, 2)[1].standard_normal(3)
    np.testing.assert_array_equal(a, b)
