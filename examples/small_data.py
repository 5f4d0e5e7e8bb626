"""Few runs plus published knowledge: fit 6 small runs with a card's priors, predict the largest.

The single-epoch runs of Muennighoff et al.'s data-constrained study (``datablations``) include
an isoFLOP slice at 1e19 FLOPs: 6 runs from 83M to 1.1B parameters. Six runs cannot pin down
a five-parameter law on their own, but the exponents and the irreducible loss of the paper's own
C4 fit (card ``muennighoff2023``, fitted on other runs), widened 3× because a card's standard
errors do not carry the differences between two sets of runs, can. The fit predicts every
single-epoch run at ≥ 3e20 FLOPs — 30× to 900× more compute — and the script prints how often
the 50/80/95% predictive intervals cover them.

    python examples/small_data.py
"""

from __future__ import annotations

import warnings

import numpy as np

import bayescale as bs
from bayescale.validation import _score


def main() -> None:
    runs = bs.load_dataset("datablations_muennighoff2023")
    single = runs[runs["epochs"] == 1]
    small = single[(single["C"] > 9e18) & (single["C"] < 1.1e19)]
    large = single[single["C"] >= 3e20]
    priors = bs.load_card("muennighoff2023").as_priors("chinchilla", inflate=3.0)
    print(
        f"fitting {len(small)} runs at ~1e19 FLOPs (N {small.N.min():.3g} to "
        f"{small.N.max():.3g}) with card priors on {sorted(priors)}"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.SmallDataWarning)
        fit = bs.fit(
            "chinchilla", small[["N", "D", "loss"]], priors=priors, random_seed=0, progressbar=False
        )
    for w in caught:
        if issubclass(w.category, bs.SmallDataWarning):
            print(f"warning: {w.message}")
    print(f"divergences: {fit.divergences}; max R-hat {fit.diagnostics()['max_r_hat']:.3f}")
    print(fit.summary().loc[["E", "alpha", "beta"], ["median", "ci95_lo", "ci95_hi"]].round(3))
    draws = bs.predict_loss(
        fit, N=large["N"].to_numpy(), D=large["D"].to_numpy(), kind="predictive", random_seed=1
    )
    flat = draws.transpose("chain", "draw", "point").to_numpy().reshape(-1, len(large))
    scored = _score(flat, large["loss"].to_numpy(), (0.5, 0.8, 0.95))
    print(f"\n{len(large)} held-out runs at 3e20-9e21 FLOPs:")
    for p in ("50", "80", "95"):
        print(f"  {p}% predictive interval covers {np.mean(scored[f'inside{p}']):.0%}")
    print(f"  median |relative error| {np.median(np.abs(scored['rel_error'])):.2%}")


if __name__ == "__main__":
    main()
