"""numba's and PyTensor's on-disk numba caches are used only from private folders (issue 13).

numba loads its cache files (pickles) without checking who wrote them, so a cache folder
another user can write to would let that user run code in our process. ``store.private_dir_ok``
decides, ``store.secure_caches`` redirects numba's cache to a private folder of ours or turns
PyTensor's off, with one warning naming the folder.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from bayescale.sampling import store

AS_ROOT = hasattr(os, "getuid") and os.getuid() == 0
OTHER_UID = 65534  # "nobody"


def _folder(path, mode=0o700):
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


def test_a_private_folder_is_ok(tmp_path):
    os.chmod(tmp_path, 0o700)
    assert store.private_dir_ok(_folder(tmp_path / "cache"))
    assert store.private_dir_ok(_folder(tmp_path / "cache" / "deeper", 0o755))
    # a folder not created yet: decided by the folder it will be created in
    assert store.private_dir_ok(tmp_path / "cache" / "not" / "yet")


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722, 0o702])
def test_a_folder_others_can_write_is_refused(tmp_path, mode):
    shared = _folder(tmp_path / "shared", mode)
    if store._private_group(os.stat(shared).st_gid, os.getuid()):
        # a group others are in (our own group may write: tests/test_review_stop21.py)
        if not AS_ROOT:
            pytest.skip("chgrp to a shared group needs root")
        os.chown(shared, -1, OTHER_UID)
    assert not store.private_dir_ok(shared)
    # and so is anything below it, existing or not (its entries can be replaced)
    assert not store.private_dir_ok(_folder(shared / "mine"))
    assert not store.private_dir_ok(shared / "not-yet")


def test_a_sticky_shared_parent_is_ok_but_not_as_the_cache_itself(tmp_path):
    sticky = _folder(tmp_path / "tmp", 0o1777)  # as /tmp
    assert store.private_dir_ok(_folder(sticky / "mine"))
    assert store.private_dir_ok(sticky / "not-yet")
    assert not store.private_dir_ok(sticky)


def test_a_link_is_judged_by_the_folder_it_points_to(tmp_path):
    shared = _folder(tmp_path / "shared", 0o777)
    (tmp_path / "link").symlink_to(shared)
    assert not store.private_dir_ok(tmp_path / "link")
    (tmp_path / "file").write_text("")
    assert not store.private_dir_ok(tmp_path / "file")


@pytest.mark.skipif(not AS_ROOT, reason="chown to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp_path):
    theirs = _folder(tmp_path / "theirs", 0o755)
    os.chown(theirs, OTHER_UID, OTHER_UID)
    assert not store.private_dir_ok(theirs)
    assert not store.private_dir_ok(_folder(theirs / "mine"))  # they can swap it
    os.chown(theirs, 0, 0)  # root's (our) folder: ours
    assert store.private_dir_ok(theirs)


_PROBE = """
import json, os, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from bayescale.sampling import store
    store.secure_caches()
    store.secure_caches()  # once per process
import numba, pytensor
print(json.dumps({"numba": numba.config.CACHE_DIR, "env": os.environ.get("NUMBA_CACHE_DIR"),
                  "pytensor_cache": bool(pytensor.config.numba__cache),
                  "warnings": [str(w.message) for w in caught]}))
"""


def _probe(env):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROBE)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _hostile_dirs(tmp_path):
    os.chmod(tmp_path, 0o700)
    numba_dir = _folder(tmp_path / "numba-shared", 0o777)
    compiledir = _folder(tmp_path / "pytensor")
    pytensor_numba = _folder(compiledir / "numba", 0o755)
    if AS_ROOT:
        os.chown(pytensor_numba, OTHER_UID, OTHER_UID)
    else:
        os.chmod(pytensor_numba, 0o777)
    env = {"NUMBA_CACHE_DIR": str(numba_dir), "PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
    return numba_dir, pytensor_numba, env


def test_shared_cache_folders_are_not_used(tmp_path):
    numba_dir, pytensor_numba, env = _hostile_dirs(tmp_path)
    found = _probe(env)
    private = found["numba"]
    assert private != str(numba_dir) and found["env"] == private
    info = os.stat(private)
    assert info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0
    assert store.private_dir_ok(private)
    assert found["pytensor_cache"] is False
    assert len(found["warnings"]) == 2, found["warnings"]
    assert str(numba_dir) in found["warnings"][0] and private in found["warnings"][0]
    assert str(pytensor_numba) in found["warnings"][1]
    # private folders: used as they are, without a warning
    os.chmod(numba_dir, 0o700)
    if AS_ROOT:
        os.chown(pytensor_numba, 0, 0)
    else:
        os.chmod(pytensor_numba, 0o755)
    found = _probe(env)
    assert found["numba"] == str(numba_dir) and found["pytensor_cache"] is True
    assert found["warnings"] == []


_FIT = """
import json, os, warnings
warnings.simplefilter("ignore")
import numpy as np, pymc as pm
import bayescale as bs
from bayescale import sampling
with pm.Model() as model:
    mu = pm.Normal("mu", 0.0, 1.0)
    sd = pm.HalfNormal("sd", 1.0)
    pm.Normal("y", mu, sd, observed=np.array([0.3, -0.2, 1.1, 0.7]))
trace = sampling.sample_model(model, draws=50, tune=50, chains=1, seed=3,
                              progressbar=False)
print(json.dumps(trace.posterior["mu"].to_numpy().ravel().tolist()))
"""


@pytest.mark.slow
def test_draws_are_the_same_with_shared_cache_folders(tmp_path):
    """A cold process whose cache folders are shared compiles without them — nothing lands in
    the shared numba folder — and gives the draws of a process with private caches."""
    numba_dir, pytensor_numba, env = _hostile_dirs(tmp_path)

    def run(extra):
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_FIT)],
            capture_output=True,
            text=True,
            env={**os.environ, **extra},
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    hostile = run(env)
    assert not any(numba_dir.rglob("*.nbi")) and not any(pytensor_numba.rglob("*.nbi"))
    assert hostile == run({})


def test_numba_user_wide_folder_is_checked_when_the_package_folder_is_read_only(
    tmp_path, monkeypatch
):
    """A package folder numba cannot write in (a read-only install) sends numba's cache to its
    user-wide folder (``$XDG_CACHE_HOME/numba``): that one is checked instead."""
    import numba

    os.chmod(tmp_path, 0o700)
    home = _folder(tmp_path / "cache-home", 0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(store, "_SECURED", [])
    monkeypatch.setattr(store, "_writable", lambda folder: False)
    with pytest.warns(UserWarning, match=str(home / "numba")):
        store.secure_caches()
    assert store._SECURED[0] == home / "numba"
    assert numba.config.CACHE_DIR and store.private_dir_ok(numba.config.CACHE_DIR)
    assert os.environ["NUMBA_CACHE_DIR"] == numba.config.CACHE_DIR
