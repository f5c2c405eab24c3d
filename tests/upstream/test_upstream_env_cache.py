# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The upstream environment's cache: built once, reused while its stamp matches, rebuilt when half built or stale.

The build itself is replaced by a stand-in, so this runs without the network and in a second.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import upstream_env


@pytest.fixture
def builds(monkeypatch) -> SimpleNamespace:
    """Replaces the build with one that makes a venv-shaped folder (or fails half way when ``fail`` is set)."""
    state = SimpleNamespace(made=[], fail=False)

    def fake_build(root: Path, base_python: str, wheel: Path, log) -> None:
        shutil.rmtree(root, ignore_errors=True)
        (root / "bin").mkdir(parents=True)
        if state.fail:
            raise RuntimeError("pip failed half way")
        (root / "bin" / "python").symlink_to(sys.executable)
        state.made.append(root)

    monkeypatch.setattr(upstream_env, "_build", fake_build)
    monkeypatch.setattr(upstream_env, "find_base_python", lambda: sys.executable)
    return state


def ensure(tmp_path: Path, digest: str = "digest") -> upstream_env.UpstreamEnv:
    return upstream_env.ensure_upstream_env(tmp_path / "wheel.whl", digest, cache_dir=tmp_path, log=lambda _: None)


def test_built_once_then_reused(builds, tmp_path):
    first = ensure(tmp_path)
    second = ensure(tmp_path)
    assert len(builds.made) == 1
    assert first.built_seconds is not None and second.built_seconds is None
    assert second.python == tmp_path / "venv-3.0.0" / "bin" / "python"
    assert second.site_packages.is_dir()


def test_half_built_environment_is_rebuilt(builds, tmp_path):
    builds.fail = True
    with pytest.raises(RuntimeError, match="half way"):
        ensure(tmp_path)
    assert not (tmp_path / "venv-3.0.0" / upstream_env.STAMP_NAME).exists()
    builds.fail = False
    assert ensure(tmp_path).built_seconds is not None
    assert len(builds.made) == 1


def test_another_recipe_rebuilds(builds, tmp_path):
    ensure(tmp_path)
    ensure(tmp_path, digest="another wheel")
    assert len(builds.made) == 2


def test_looking_without_a_wheel_never_builds(builds, tmp_path):
    assert upstream_env.ensure_upstream_env(None, "digest", cache_dir=tmp_path, log=lambda _: None) is None
    assert not builds.made
    ensure(tmp_path)
    found = upstream_env.ensure_upstream_env(None, "digest", cache_dir=tmp_path, log=lambda _: None)
    assert found is not None and found.built_seconds is None and len(builds.made) == 1


def test_a_link_to_the_same_python_finds_the_environment(builds, tmp_path, monkeypatch):
    """Every checkout's env_isaaclab python links to one interpreter: the environment one built serves them all."""
    ensure(tmp_path)
    link = tmp_path / "other_checkout_python"
    link.symlink_to(sys.executable)
    monkeypatch.setattr(upstream_env, "find_base_python", lambda: str(link))
    assert ensure(tmp_path).built_seconds is None and len(builds.made) == 1
