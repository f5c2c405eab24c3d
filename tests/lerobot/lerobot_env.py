# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""A cached Python environment holding the real ``lerobot`` 0.6.1, to load the datasets the project writes.

lerobot 0.6.1 declares Python >= 3.12; this machine has 3.11. The environment is built as
``shared/design/lerobot.md`` measured: a Python 3.11 venv, the CPU ``torch``, ``torchvision`` without its
dependencies, lerobot with ``--no-deps --ignore-requires-python``, and the few packages its dataset path needs. Then,
in the installed copy only, the lerobot modules written with Python 3.12 syntax are rewritten for 3.11 (``type X =``
aliases, generic classes and functions), and torchvision's two fake-kernel registrations of its C ops are guarded,
because the index's torchvision build cannot load its ops beside the CPU torch.

It lives in ``$XDG_CACHE_HOME/isaaclab_lerobot/venv-0.6.1`` (``ISAACLAB_LEROBOT_CACHE`` overrides the folder). A stamp
file written last marks a complete build; a file lock keeps concurrent test sessions from building it twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LEROBOT_SPEC = "lerobot==0.6.1"
TORCH_SPEC = os.environ.get("ISAACLAB_LEROBOT_TORCH_SPEC", "torch==2.13.0")
TORCHVISION_SPEC = "torchvision==0.28.0"
PACKAGES = (
    "numpy<2.3",
    "pillow",
    "datasets>=4,<5",
    "pandas>=2,<3",
    "pyarrow",
    "av>=15,<16",
    "huggingface-hub>=1,<2",
    "draccus==0.11.6",
    "safetensors",
    "einops",
    "gymnasium",
    "jsonlines",
    "packaging",
    "termcolor",
)
"""What lerobot's dataset path imports (lerobot itself is installed without its dependencies)."""

STAMP_NAME = ".isaaclab_lerobot_stamp"
IMPORT_CHECK = "from lerobot.datasets.lerobot_dataset import LeRobotDataset; print('ok')"
RECIPE_VERSION = 2
"""Bumped when the rewrites below change, so that cached environments are rebuilt."""


@dataclass(frozen=True)
class LeRobotEnv:
    """A ready lerobot environment."""

    root: Path
    """The venv folder."""
    python: Path
    """Its python."""
    built_seconds: float | None
    """Seconds this call spent building it, or None if the cached one was used."""


def default_cache_dir() -> Path:
    """``$ISAACLAB_LEROBOT_CACHE``, else ``$XDG_CACHE_HOME/isaaclab_lerobot`` (``~/.cache/isaaclab_lerobot``)."""
    if os.environ.get("ISAACLAB_LEROBOT_CACHE"):
        return Path(os.environ["ISAACLAB_LEROBOT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isaaclab_lerobot"


def fingerprint(base_python: str) -> str:
    """What the environment is built from; a stamp with another fingerprint means rebuild."""
    recipe = {
        "lerobot": LEROBOT_SPEC,
        "torch": TORCH_SPEC,
        "torchvision": TORCHVISION_SPEC,
        "packages": PACKAGES,
        "python": base_python,
        "recipe": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def ensure_lerobot_env(cache_dir: Path | None = None, log=print) -> LeRobotEnv:
    """The lerobot environment, built on first use (about a minute from a warm pip cache) and cached.

    Args:
        cache_dir: The cache folder (default: :func:`default_cache_dir`).
        log: Called with progress lines.

    Returns:
        The environment.

    Raises:
        RuntimeError: If this interpreter is not Python 3.11 or newer, or a build step fails (the half-built venv is
            left without a stamp and rebuilt next time).
    """
    if sys.version_info[:2] < (3, 11):
        raise RuntimeError("the lerobot check needs Python >= 3.11 to build its environment")
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = cache_dir / "venv-0.6.1"
    python = root / "bin" / "python"
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session building it: wait for it
        stamp = root / STAMP_NAME
        wanted = fingerprint(sys.executable)
        built_seconds = None
        if not (stamp.is_file() and stamp.read_text().strip() == wanted and python.is_file()):
            start = time.perf_counter()
            _build(root, log)
            stamp.write_text(wanted + "\n")
            built_seconds = time.perf_counter() - start
            log(f"[lerobot] Built the lerobot 0.6.1 environment in {built_seconds:.0f} s: {root}")
    return LeRobotEnv(root=root, python=python, built_seconds=built_seconds)


def _build(root: Path, log) -> None:
    """Make the venv from scratch (deleting any previous one), install into it and patch the installed copy."""
    if root.exists():
        log(f"[lerobot] Removing the incomplete or outdated environment {root}")
        shutil.rmtree(root)
    log(f"[lerobot] Building the lerobot 0.6.1 environment in {root} (about a minute, once)")
    _run([sys.executable, "-m", "venv", str(root)])
    python = str(root / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(pip + [TORCH_SPEC])
    _run(pip + ["--no-deps", TORCHVISION_SPEC])
    _run(pip + ["--no-deps", "--ignore-requires-python", LEROBOT_SPEC])
    _run(pip + list(PACKAGES))
    site_packages = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    for path in sorted((site_packages / "lerobot").rglob("*.py")):
        source = path.read_text()
        rewritten = rewrite_py312_syntax(source)
        if rewritten != source:
            path.write_text(rewritten)
    guard_torchvision_fake_ops(site_packages / "torchvision" / "_meta_registrations.py")
    _run([python, "-m", "compileall", "-q", str(site_packages / "lerobot")])
    _run([python, "-c", IMPORT_CHECK])


_TYPE_ALIAS = re.compile(r"^type (\w+) = ")
_GENERIC_CLASS = re.compile(r"^class (\w+)\[([^\]]+)\](?:\(([^)]*)\))?:")
_GENERIC_DEF = re.compile(r"^def (\w+)\[([^\]]+)\]\(")


def rewrite_py312_syntax(source: str) -> str:
    """Rewrite the Python 3.12 syntax lerobot uses into Python 3.11 syntax.

    ``type X = Y`` becomes ``X = Y``; ``class C[T](Base):`` becomes ``class C(Base, Generic[T]):`` and
    ``def f[T: B](...)`` becomes ``def f(...)``, with the type variables they declared (and their bounds) defined
    at module level right before them (before their decorators).
    """
    lines = source.splitlines(keepends=True)
    output: list[str] = []
    for line in lines:
        line = _TYPE_ALIAS.sub(r"\1 = ", line)
        declarations = ""
        match = _GENERIC_CLASS.match(line)
        if match:
            declarations, names = _type_vars(match.group(2))
            bases = [base.strip() for base in (match.group(3) or "").split(",") if base.strip()]
            bases.append(f'__import__("typing").Generic[{", ".join(names)}]')
            line = f"class {match.group(1)}({', '.join(bases)}):" + line[match.end() :]
        match = _GENERIC_DEF.match(line)
        if match:
            declarations, _ = _type_vars(match.group(2))
            line = f"def {match.group(1)}(" + line[match.end() :]
        if declarations:
            decorators = 0
            while decorators < len(output) and output[len(output) - 1 - decorators].startswith("@"):
                decorators += 1
            output.insert(len(output) - decorators, declarations)
        output.append(line)
    return "".join(output)


def _type_vars(params: str) -> tuple[str, list[str]]:
    """Module-level ``TypeVar`` definitions for a PEP 695 parameter list, and the parameter names."""
    declarations, names = [], []
    for param in (part.strip() for part in params.split(",")):
        name, _, bound = (item.strip() for item in param.partition(":"))
        names.append(name)
        bound_arg = f", bound={bound}" if bound else ""
        declarations.append(f'{name} = __import__("typing").TypeVar("{name}"{bound_arg})\n')
    return "".join(declarations), names


def guard_torchvision_fake_ops(path: Path) -> None:
    """Register torchvision's fake ``nms``/``qnms`` kernels only when its C ops loaded.

    The index's torchvision 0.28.0 is a CUDA build whose ops cannot load beside the CPU torch; its two unconditional
    ``register_fake`` decorators then fail at import. Each decorated function is defined only if the ops exist.
    """
    source = path.read_text()
    pattern = re.compile(r'^@torch\.library\.register_fake\("torchvision::(nms|qnms)"\)\n', re.MULTILINE)
    if not pattern.search(source):
        raise RuntimeError(f"torchvision's fake op registrations were not found in {path}; the recipe needs updating")

    def guarded(match: re.Match) -> str:
        return f"@(lambda fn: fn) if not __import__('torchvision').extension._has_ops() else {match.group(0)[1:]}"

    path.write_text(pattern.sub(guarded, source))


def _run(command: list[str]) -> str:
    """Run a build step and return its output; on failure raise with the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(
            f"building the lerobot environment failed: {' '.join(command)} (exit {result.returncode}):\n{output}"
        )
    return result.stdout
