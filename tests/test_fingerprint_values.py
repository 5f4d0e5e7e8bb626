"""How ``sampling.fingerprint`` describes values and functions (issue 13): never by a ``repr``.

Subclasses of plain types by class and value, text kept exactly, functions with the values of
the module globals they read (followed through the functions they call, cycles included), and
anything that cannot be described an error — never a fingerprint that ignores it.
"""

from __future__ import annotations

import enum
import hashlib
import math
import sys

import numpy as np
import pytest

from bayescale.sampling import fingerprint


def _digest(obj) -> str:
    h = hashlib.sha256()
    fingerprint._feed(h, (fingerprint._describe(obj, {}),))
    return h.hexdigest()


class _Tag(str):
    pass


class _Count(int):
    pass


class _Pair(complex):
    pass


class _Colour(enum.IntEnum):
    RED = 1
    BLUE = 2


def test_plain_values_and_their_subclasses_are_told_apart():
    assert _digest("a") == _digest("a") and _digest("a") != _digest("b")
    assert _digest(_Tag("a")) != _digest("a")  # the class counts
    assert _digest(_Tag("a")) == _digest(_Tag("a")) and _digest(_Tag("a")) != _digest(_Tag("b"))
    assert _digest(_Count(1)) != _digest(_Count(2)) and _digest(_Count(1)) != _digest(1)
    assert _digest(_Pair(1 + 2j)) != _digest(_Pair(1 + 3j))
    # the state a subclass instance carries counts too
    a, b = _Tag("a"), _Tag("a")
    b.unit = "tokens"
    assert _digest(a) != _digest(b)
    # enums by name, numpy scalars by dtype and bytes
    assert _digest(_Colour.RED) != _digest(_Colour.BLUE) and _digest(_Colour.RED) != _digest(1)
    assert _digest(np.float64(1.0)) != _digest(np.float32(1.0))
    assert _digest(1.0) != _digest(1) and _digest(True) != _digest(1)


def test_text_is_kept_exactly():
    for a, b in [("x at 0x1", "x at 0x2"), ("loss at 0xdeadbeef", "loss")]:
        assert _digest(a) != _digest(b)


_OFFSET = 1.0
_STEPS = [1, 2]


def _shifted(x):
    return x + _OFFSET + _helper(x)


def _helper(x):
    return math.fsum(_STEPS) + (_helper(x - 1) if x > 10 else 0)  # reads itself: a cycle


def _ping(n):
    return _pong(n - 1) if n else 0


def _pong(n):
    return _ping(n - 1) if n else 1


def test_functions_are_described_with_the_globals_they_read(monkeypatch):
    module = sys.modules[__name__]
    before = _digest(_shifted)
    assert _digest(_shifted) == before
    monkeypatch.setattr(module, "_OFFSET", 2.0)
    changed_direct = _digest(_shifted)
    monkeypatch.setattr(module, "_STEPS", [1, 3])  # read by a function it calls
    changed_nested = _digest(_shifted)
    assert len({before, changed_direct, changed_nested}) == 3
    monkeypatch.setattr(module, "_OFFSET", 1.0)
    monkeypatch.setattr(module, "_STEPS", [1, 2])
    assert _digest(_shifted) == before
    # functions that call each other are described (the cycle ends), the same each time
    assert _digest(_ping) == _digest(_ping) and _digest(_ping) != _digest(_pong)


def test_a_global_that_cannot_be_described_is_an_error(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "_OFFSET", object())
    with pytest.raises(TypeError, match="cannot describe"):
        _digest(_shifted)


def test_nested_code_reads_count():
    def outer():
        return lambda: _OFFSET

    described = fingerprint._describe(outer, {})
    assert ("_OFFSET", 1.0) in described[-1]
