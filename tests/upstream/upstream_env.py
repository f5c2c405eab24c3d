# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""A cached Python environment holding the real Isaac Lab 3.0.0, installed for the CPU without Isaac Sim.

The environment is separate from the project's (``./env_isaaclab``) and lives in
``$XDG_CACHE_HOME/isaaclab_upstream/venv-3.0.0`` (``ISAACLAB_UPSTREAM_CACHE`` overrides the folder). It is built as
``shared/design/upstream-isaaclab.md`` measured: a Python 3.11 venv, the CPU ``torch==2.13.0``, the
``isaaclab==3.0.0`` wheel with ``--no-deps --ignore-requires-python``, then only the few packages the recorder,
Newton envs and the tests need. A stamp file written last marks a complete build: a venv without a matching stamp
(half built, or built from another recipe) is deleted and built again. A file lock keeps concurrent test sessions
from building it twice.

The installed ``site-packages`` stays as pip wrote it; callers patch copies of the packages, never the originals.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TORCH_SPEC = os.environ.get("ISAACLAB_UPSTREAM_TORCH_SPEC", "torch==2.13.0")
"""torch for the environment; on this project's machines pip takes the local CPU build of this version."""

PACKAGES = (
    # the recorder, datasets and managers
    "numpy",
    "lazy_loader",
    "h5py",
    "warp-lang==1.17.0",  # not "warp", an unrelated package on the index
    "prettytable",
    # envs on Newton
    "newton[sim]==1.6.1",
    "gymnasium",
    "newton-usd-schemas",
    "usd-core",
    "rich",
    "pyyaml",
    "hydra-core",
    # what the patch series adds: ISA-L deflate (optional), LeRobot output (pyarrow, PyAV)
    "isal",
    "pyarrow",
    "av",
    # Isaac Lab's tests, and the tests the patches carry
    "pytest",
    "pytest-mock",
    "psutil",
)
"""What is installed next to the wheel (installed without its dependencies, which pin a CUDA torch and more)."""

PYTHON_VERSION = (3, 11)
"""The Python the environment is made with (Isaac Lab 3.0.0 declares 3.12, but runs on 3.11; torch's CPU build is
on the index for 3.11)."""

STAMP_NAME = ".isaaclab_upstream_stamp"
IMPORT_CHECK = "import torch, warp, newton, h5py, isaaclab, isaaclab_mimic, isaaclab_newton; print(torch.__version__)"


@dataclass(frozen=True)
class UpstreamEnv:
    """A ready upstream environment."""

    root: Path
    """The venv folder."""
    python: Path
    """Its python."""
    site_packages: Path
    """Its ``site-packages`` folder (pristine: never patch it)."""
    built_seconds: float | None
    """Seconds this call spent building it, or None if the cached one was used."""


def default_cache_dir() -> Path:
    """``$ISAACLAB_UPSTREAM_CACHE``, else ``$XDG_CACHE_HOME/isaaclab_upstream`` (``~/.cache/isaaclab_upstream``)."""
    if os.environ.get("ISAACLAB_UPSTREAM_CACHE"):
        return Path(os.environ["ISAACLAB_UPSTREAM_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isaaclab_upstream"


def find_base_python() -> str:
    """A Python 3.11 to make the venv with: ``$ISAACLAB_UPSTREAM_PYTHON``, this interpreter, or ``python3.11``.

    Raises:
        RuntimeError: If none is found.
    """
    candidates = [os.environ.get("ISAACLAB_UPSTREAM_PYTHON"), sys.executable, shutil.which("python3.11")]
    wanted = ".".join(map(str, PYTHON_VERSION))
    for candidate in filter(None, candidates):
        version = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if version.returncode == 0 and version.stdout.strip() == wanted:
            return candidate
    raise RuntimeError(f"the upstream check needs Python {wanted}: set ISAACLAB_UPSTREAM_PYTHON to one.")


def fingerprint(wheel_sha256: str, base_python: str) -> str:
    """What the environment is built from; a stamp with another fingerprint means rebuild.

    The Python counts by the interpreter it runs (links resolved): every checkout's ``env_isaaclab`` python is a link to
    the same interpreter, and finds the environment another checkout built.
    """
    recipe = {"wheel": wheel_sha256, "torch": TORCH_SPEC, "packages": PACKAGES, "python": os.path.realpath(base_python)}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def ensure_upstream_env(
    wheel: Path | None, wheel_sha256: str, cache_dir: Path | None = None, log: Callable[[str], None] = print
) -> UpstreamEnv | None:
    """The upstream environment, built on first use (a few minutes) and cached.

    Args:
        wheel: The ``isaaclab-3.0.0`` wheel file, or None to only look for the environment built before (nothing is
            built: None is returned if there is none).
        wheel_sha256: Its digest (part of the cache fingerprint).
        cache_dir: The cache folder (default: :func:`default_cache_dir`).
        log: Called with progress lines.

    Returns:
        The environment (None if ``wheel`` is None and it is not built).

    Raises:
        RuntimeError: If a step of the build fails (the half-built venv is left without a stamp).
    """
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = cache_dir / "venv-3.0.0"
    python = root / "bin" / "python"
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session building it: wait for it
        base_python = find_base_python()
        stamp = root / STAMP_NAME
        wanted = fingerprint(wheel_sha256, base_python)
        built_seconds = None
        if not (stamp.is_file() and stamp.read_text().strip() == wanted and python.is_file()):
            if wheel is None:
                return None
            start = time.perf_counter()
            _build(root, base_python, wheel, log)
            stamp.write_text(wanted + "\n")
            built_seconds = time.perf_counter() - start
            log(f"[upstream] Built the Isaac Lab 3.0.0 environment in {built_seconds:.0f} s: {root}")
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    return UpstreamEnv(root=root, python=python, site_packages=site_packages, built_seconds=built_seconds)


def _build(root: Path, base_python: str, wheel: Path, log: Callable[[str], None]) -> None:
    """Make the venv from scratch (deleting any previous one) and install into it."""
    if root.exists():
        log(f"[upstream] Removing the incomplete or outdated environment {root}")
        shutil.rmtree(root)
    log(f"[upstream] Building the Isaac Lab 3.0.0 environment in {root} (a few minutes, once)")
    _run([base_python, "-m", "venv", str(root)])
    pip = [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(pip + [TORCH_SPEC])
    _run(pip + ["--no-deps", "--ignore-requires-python", str(wheel)])
    _run(pip + list(PACKAGES))
    _run([str(root / "bin" / "python"), "-c", IMPORT_CHECK])


def _run(command: list[str]) -> None:
    """Run a build step; on failure raise with the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(
            f"building the upstream environment failed: {' '.join(command)} (exit {result.returncode}):\n{output}"
        )
