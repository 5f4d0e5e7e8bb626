"""Reference cards: published fits of scaling laws, with citations and counting conventions.

A card is a small TOML file in ``models/`` (shipped inside the package). It names the law, gives
the published parameter values and, where the source reports them, standard errors and 95%
intervals, and says how parameters, tokens and FLOPs were counted. Cards are compared with
posteriors and can be turned into priors.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ._api import deprecated_args
from .priors import Prior

__all__ = ["Card", "list_cards", "load_card"]


@dataclass(frozen=True)
class Card:
    """A published fit of a law.

    Examples
    --------
    >>> import bayescale as bs
    >>> card = bs.load_card("hoffmann2022")
    >>> card.params["beta"], card.law
    (0.28, 'chinchilla')
    """

    name: str
    law: str
    title: str
    citation: str
    params: dict[str, float]
    se: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    derived: dict[str, float] = field(default_factory=dict)
    counting: str = ""
    notes: str = ""

    @deprecated_args(renamed={"scale": "inflate"})
    def as_priors(
        self,
        law: Any = None,
        *,
        inflate: float = 1.0,
        rel_sd: float = 0.1,
    ) -> dict:
        """Priors centred on the card's values, for the law's parameters the card fixes.

        A sampled parameter named like a card value (``alpha``) gets Normal(value, sd); one named
        ``log_X`` for a card value ``X`` gets Normal(log X, sd/X). ``sd`` is the card's standard
        error times ``inflate`` (> 1 admits that another dataset, corpus or architecture differs
        from the card's), or ``rel_sd`` × |value| × ``inflate`` when the card has none.
        Parameters defined at the data's reference scales (``log_A_ref``) keep their default
        priors. ``scale=`` is the 0.x name of ``inflate`` (deprecated; warns).

        Examples
        --------
        >>> import bayescale as bs
        >>> pri = bs.load_card("besiroglu2024").as_priors()
        >>> sorted(pri), round(pri["alpha"].params["sigma"], 4)
        (['alpha', 'beta', 'log_E'], 0.0154)
        """
        from .law import get_law

        if not (isinstance(inflate, int | float) and math.isfinite(inflate) and inflate > 0):
            raise ValueError(f"inflate must be a positive number, got {inflate!r}")
        law = get_law(law or self.law)
        out: dict[str, Prior] = {}
        for name in law.parameter_names:
            if name in self.params:
                value = self.params[name]
                sd = self.se.get(name, rel_sd * abs(value)) * inflate
                out[name] = Prior("Normal", mu=value, sigma=sd)
            elif name.startswith("log_") and name[4:] in self.params:
                base = name[4:]
                value = self.params[base]
                sd = self.se.get(base, rel_sd * abs(value)) * inflate
                out[name] = Prior("Normal", mu=math.log(value), sigma=sd / value)
        return out

    def table(self) -> pd.DataFrame:
        """The card's values, standard errors and intervals as a DataFrame."""
        rows = []
        for k, v in self.params.items():
            lo, hi = self.ci95.get(k, (math.nan, math.nan))
            rows.append(
                {
                    "parameter": k,
                    "value": v,
                    "se": self.se.get(k, math.nan),
                    "ci95_lo": lo,
                    "ci95_hi": hi,
                }
            )
        return pd.DataFrame(rows).set_index("parameter")


def _card_dir() -> Path:
    packaged = resources.files("bayescale") / "models"
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "models"
    if source.is_dir():
        return source
    raise FileNotFoundError("bayescale's reference cards (models/*.toml) are not installed")


def _read(path: Path) -> Card:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        return Card(
            name=raw["name"],
            law=raw["law"],
            title=raw.get("title", ""),
            citation=raw["citation"],
            params={k: float(v) for k, v in raw["params"].items()},
            se={k: float(v) for k, v in raw.get("se", {}).items()},
            ci95={k: (float(v[0]), float(v[1])) for k, v in raw.get("ci95", {}).items()},
            derived={k: float(v) for k, v in raw.get("derived", {}).items()},
            counting=raw.get("counting", ""),
            notes=raw.get("notes", ""),
        )
    except KeyError as err:
        raise ValueError(f"card {path.name} lacks the required field {err}") from None


def list_cards() -> pd.DataFrame:
    """All reference cards: name, law, title, citation.

    Examples
    --------
    >>> import bayescale as bs
    >>> {"hoffmann2022", "besiroglu2024", "kaplan2020"} <= set(bs.list_cards()["name"])
    True
    """
    cards = [_read(p) for p in sorted(_card_dir().glob("*.toml"))]
    return pd.DataFrame(
        [{"name": c.name, "law": c.law, "title": c.title, "citation": c.citation} for c in cards]
    )


def load_card(name: str) -> Card:
    """Load the reference card called ``name``.

    Examples
    --------
    >>> import bayescale as bs
    >>> bs.load_card("besiroglu2024").ci95["E"]
    (1.769, 1.871)
    """
    path = _card_dir() / f"{name}.toml"
    if not path.exists():
        names = [p.stem for p in _card_dir().glob("*.toml")]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown card {name!r}{hint}; available: {', '.join(sorted(names))}")
    return _read(path)
