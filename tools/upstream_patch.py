# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Export the project's recorder patch as one unified diff against Isaac Lab 3.0.0.

The diff goes from Isaac Lab 3.0.0's files to the project's, with paths in the IsaacLab repository layout
(``a/source/isaaclab/isaaclab/...``, ``b/...``), so it applies with ``git apply`` in an IsaacLab v3.0.0 checkout and
with ``patch -p3`` in the ``site-packages`` of a pip-installed ``isaaclab==3.0.0``. No Isaac Lab code is stored in
this repository: the upstream files are read at run time, either from the ``isaaclab==3.0.0`` wheel (downloaded
once with pip and cached) or from an IsaacLab checkout given with ``--isaaclab``.

:data:`PATCH_FILES` is the one list of the files the patch holds. Run it through ``./isaaclab.sh --export-patch``.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The root of this repository."""

ISAACLAB_VERSION = "3.0.0"
"""The Isaac Lab release the patch is made against."""

WHEEL_NAME = f"isaaclab-{ISAACLAB_VERSION}-py3-none-any.whl"
"""The file name of that release's wheel on the package index."""

WHEEL_SHA256 = "625f752c7dd912eb8efade85daeb7a8119d620266852380d17d8f9e701b80bca"
"""The SHA-256 of :data:`WHEEL_NAME`; a cached or given wheel with another digest is refused."""

PATCH_FILES: tuple[str, ...] = (
    "source/isaaclab/isaaclab/managers/recorder_manager.py",
    "source/isaaclab/isaaclab/utils/datasets/__init__.py",
    "source/isaaclab/isaaclab/utils/datasets/__init__.pyi",
    "source/isaaclab/isaaclab/utils/datasets/chunk_compression.py",
    "source/isaaclab/isaaclab/utils/datasets/dataset_file_handler_base.py",
    "source/isaaclab/isaaclab/utils/datasets/episode_data.py",
    "source/isaaclab/isaaclab/utils/datasets/episode_writer.py",
    "source/isaaclab/isaaclab/utils/datasets/hdf5_dataset_file_handler.py",
    "source/isaaclab/isaaclab/utils/datasets/paged_episode_store.py",
    "source/isaaclab/isaaclab/utils/datasets/writer_shutdown.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/__init__.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/data_file.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/journal.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/layout.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/lerobot_dataset_cfg.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/lerobot_dataset_file_handler.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/merge.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/metadata.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/stats.py",
    "source/isaaclab/isaaclab/utils/datasets/lerobot/video_file.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/generation.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_format.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_generation.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_merge.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/distributed_generation.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/distributed_summary.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/generation_worker.py",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/ray_connection.py",
    "scripts/imitation_learning/isaaclab_mimic/generate_dataset.py",
    "scripts/tools/merge_hdf5_datasets.py",
)
"""The files of the patch, as paths in both this repository and the IsaacLab repository (they share the layout).

A file that Isaac Lab 3.0.0 does not have becomes a new-file diff. A file under ``source/<pkg>/<pkg>/`` is also in
the wheel (as ``<pkg>/...``); any other file (``scripts/``) is only in a checkout, so wheel-mode exports leave it out.
"""

NEW_FILES: frozenset[str] = frozenset(
    {
        "source/isaaclab/isaaclab/utils/datasets/chunk_compression.py",
        "source/isaaclab/isaaclab/utils/datasets/episode_writer.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/__init__.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/data_file.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/journal.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/layout.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/lerobot_dataset_cfg.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/lerobot_dataset_file_handler.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/merge.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/metadata.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/stats.py",
        "source/isaaclab/isaaclab/utils/datasets/lerobot/video_file.py",
        "source/isaaclab/isaaclab/utils/datasets/paged_episode_store.py",
        "source/isaaclab/isaaclab/utils/datasets/writer_shutdown.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_format.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_generation.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/dataset_merge.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/distributed_generation.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/distributed_summary.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/generation_worker.py",
        "source/isaaclab_mimic/isaaclab_mimic/datagen/ray_connection.py",
    }
)
"""The files of :data:`PATCH_FILES` that Isaac Lab 3.0.0 does not have. The Isaac Lab source a patch is made against
must have every other file of the list, and none of these: one that lacks a file is not Isaac Lab 3.0.0 (an empty
or partial folder), one that has a new file holds the patch already (this project, or a patched checkout)."""


class PatchExportError(RuntimeError):
    """Raised when the patch cannot be made (a listed file is missing, the wheel cannot be had, a bad checkout)."""


@dataclass(frozen=True)
class PatchStats:
    """What an export wrote."""

    changed: list[str]
    """Files that differ from Isaac Lab's."""
    added: list[str]
    """Files that Isaac Lab does not have (new-file diffs)."""
    unchanged: list[str]
    """Files identical to Isaac Lab's (no diff)."""
    left_out: list[str]
    """Files not exported because the upstream source has no place for them (``scripts/`` in wheel mode)."""


def wheel_path(repo_path: str) -> str | None:
    """The path of a repository file inside the wheel, or None if the wheel does not ship it.

    ``source/<pkg>/<pkg>/X`` in the repository is ``<pkg>/X`` in the wheel (and in ``site-packages``).

    Args:
        repo_path: A path in the IsaacLab repository layout.

    Returns:
        The wheel path, or None for files outside ``source/<pkg>/<pkg>/``.
    """
    parts = repo_path.split("/")
    if len(parts) > 3 and parts[0] == "source" and parts[1] == parts[2]:
        return "/".join(parts[2:])
    return None


class WheelSource:
    """Isaac Lab's files as shipped in the ``isaaclab`` wheel."""

    def __init__(self, wheel: Path) -> None:
        """Open a wheel.

        Args:
            wheel: The path of the wheel file.
        """
        self.description = f"the {wheel.name} wheel"
        self._zip = zipfile.ZipFile(wheel)
        self._names = set(self._zip.namelist())

    def has_place_for(self, repo_path: str) -> bool:
        """Whether the wheel can hold this repository file at all (only files of the packages)."""
        return wheel_path(repo_path) is not None

    def read(self, repo_path: str) -> str | None:
        """The text of a repository file in the wheel, or None if the wheel does not have it."""
        name = wheel_path(repo_path)
        if name is None or name not in self._names:
            return None
        return self._zip.read(name).decode("utf-8")


class CheckoutSource:
    """Isaac Lab's files in the working tree of an IsaacLab repository checkout."""

    def __init__(self, root: Path) -> None:
        """Use a checkout.

        Args:
            root: The checkout's root folder (the one holding ``isaaclab.sh`` and ``source/``).

        Raises:
            PatchExportError: If the folder is not an IsaacLab checkout.
        """
        if root == PROJECT_ROOT:
            raise PatchExportError(f"'{root}' is this project, not an IsaacLab checkout: pass an IsaacLab v3.0.0 one.")
        if not (root / "source" / "isaaclab" / "isaaclab").is_dir():
            raise PatchExportError(f"'{root}' is not an IsaacLab checkout (no source/isaaclab/isaaclab folder).")
        self.description = f"the IsaacLab checkout at {root}"
        self._root = root
        version_file = root / "VERSION"
        self.version = version_file.read_text().strip() if version_file.is_file() else None

    def has_place_for(self, repo_path: str) -> bool:
        """Whether the checkout can hold this repository file (always)."""
        return True

    def read(self, repo_path: str) -> str | None:
        """The text of a repository file in the checkout, or None if the checkout does not have it."""
        path = self._root / repo_path
        return path.read_text(encoding="utf-8") if path.is_file() else None


def default_cache_dir() -> Path:
    """Where the wheel is cached: ``$XDG_CACHE_HOME/isaaclab_patch`` (``~/.cache/isaaclab_patch``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isaaclab_patch"


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_wheel(cache_dir: Path | None = None, log=None) -> Path:
    """The path of the cached Isaac Lab 3.0.0 wheel, downloaded with pip on first use.

    The wheel declares ``Requires-Python >=3.12``, so it is fetched as a 3.12 wheel (``--python-version 3.12
    --only-binary=:all:``), which works from any Python. It is checked against :data:`WHEEL_SHA256`.

    Args:
        cache_dir: The cache folder (default: :func:`default_cache_dir`).
        log: Called with a progress line when downloading (default: print to stderr).

    Returns:
        The path of the wheel in the cache.

    Raises:
        PatchExportError: If pip fails or the downloaded file is not the expected wheel.
    """
    cache_dir = cache_dir or default_cache_dir()
    log = log or (lambda line: print(line, file=sys.stderr))
    wheel = cache_dir / WHEEL_NAME
    if wheel.is_file() and sha256_of(wheel) == WHEEL_SHA256:
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"[upstream_patch] Downloading isaaclab=={ISAACLAB_VERSION} (once; cached in {cache_dir})")
    with tempfile.TemporaryDirectory(dir=cache_dir) as download_dir:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--python-version", "3.12"]
        command += ["--only-binary=:all:", f"isaaclab=={ISAACLAB_VERSION}", "-d", download_dir]
        result = subprocess.run(command, capture_output=True, text=True)
        downloaded = Path(download_dir) / WHEEL_NAME
        if result.returncode != 0 or not downloaded.is_file():
            raise PatchExportError(
                f"could not download isaaclab=={ISAACLAB_VERSION} with pip:\n{result.stderr.strip()}\n"
                "Pass a local copy with --wheel, or an IsaacLab checkout with --isaaclab."
            )
        check_wheel(downloaded)
        os.replace(downloaded, wheel)  # atomic: a concurrent reader sees the whole wheel or none
    return wheel


def check_wheel(wheel: Path) -> None:
    """Refuse a wheel that is not Isaac Lab 3.0.0's.

    Raises:
        PatchExportError: If the file's SHA-256 is not :data:`WHEEL_SHA256`.
    """
    digest = sha256_of(wheel)
    if digest != WHEEL_SHA256:
        raise PatchExportError(f"'{wheel}' is not the {WHEEL_NAME} release (sha256 {digest}, want {WHEEL_SHA256}).")


def unified_diff(repo_path: str, old: str | None, new: str) -> str:
    """A unified diff of one file, in the IsaacLab repository layout.

    Args:
        repo_path: The file's path in the repository layout.
        old: Isaac Lab's text, or None if Isaac Lab does not have the file (a new-file diff from ``/dev/null``).
        new: The project's text.

    Returns:
        The diff text (empty if the texts are equal). Lines without a final newline are marked as diff tools do.
    """
    old_lines = [] if old is None else old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    from_file = "/dev/null" if old is None else f"a/{repo_path}"
    lines = difflib.unified_diff(old_lines, new_lines, fromfile=from_file, tofile=f"b/{repo_path}", n=3)
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def build_patch(source: WheelSource | CheckoutSource, project_root: Path = PROJECT_ROOT) -> tuple[str, PatchStats]:
    """The patch from Isaac Lab's files to the project's, for every file of :data:`PATCH_FILES`.

    Args:
        source: Where Isaac Lab's files come from.
        project_root: The root of the project (default: this repository).

    Returns:
        The diff text and what it holds.

    Raises:
        PatchExportError: If a listed file is missing in the project, or the source is not Isaac Lab 3.0.0 (it lacks
            a file that the patch changes, or has one that the patch adds).
    """
    missing = [path for path in PATCH_FILES if not (project_root / path).is_file()]
    if missing:
        raise PatchExportError(
            "files listed in PATCH_FILES are missing in the project at "
            f"{project_root}:\n  " + "\n  ".join(missing) + "\n(update tools/upstream_patch.py if they moved)"
        )
    stats = PatchStats(changed=[], added=[], unchanged=[], left_out=[])
    diffs = []
    lacking, patched = [], []
    for repo_path in PATCH_FILES:
        if not source.has_place_for(repo_path):
            stats.left_out.append(repo_path)
            continue
        old = source.read(repo_path)
        if (old is None) != (repo_path in NEW_FILES):
            (lacking if old is None else patched).append(repo_path)
            continue
        diff = unified_diff(repo_path, old, (project_root / repo_path).read_text(encoding="utf-8"))
        if not diff:
            stats.unchanged.append(repo_path)
            continue
        (stats.added if old is None else stats.changed).append(repo_path)
        diffs.append(diff)
    if lacking or patched:
        problems = [f"it lacks {', '.join(lacking)}"] if lacking else []
        if patched:
            problems.append(f"it already has the patch's new files ({', '.join(patched)}): is it this project?")
        raise PatchExportError(f"{source.description} is not Isaac Lab {ISAACLAB_VERSION}: {'; '.join(problems)}")
    return "".join(diffs), stats


def write_patch(output: Path, patch: str) -> None:
    """Write the patch file, creating its folder.

    Raises:
        PatchExportError: If it cannot be written there.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(patch, encoding="utf-8")
    except FileExistsError:  # from mkdir: the parent is a file
        raise PatchExportError(f"cannot write the patch to '{output}': '{output.parent}' is not a folder") from None
    except OSError as error:
        raise PatchExportError(f"cannot write the patch to '{output}': {error.strerror or error}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="isaaclab.sh --export-patch",
        description=(
            f"Write the recorder patch as one unified diff from Isaac Lab {ISAACLAB_VERSION} to this project. "
            "Apply it with 'git apply FILE' in an IsaacLab v3.0.0 checkout, or with 'patch -p3 < FILE' in the "
            "site-packages folder of a pip-installed isaaclab==3.0.0."
        ),
        epilog=(
            f"By default the diff is made against the isaaclab=={ISAACLAB_VERSION} wheel (downloaded once with pip "
            "and cached). The wheel has no scripts/ folder, so the diff then leaves out the patched scripts "
            "(generate_dataset.py, merge_hdf5_datasets.py: under site-packages, 'patch -p3' would misplace them); "
            "export with --isaaclab to include them."
        ),
    )
    parser.add_argument("output", help="the patch file to write ('-' for standard output)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--isaaclab",
        metavar="PATH",
        type=Path,
        help="diff against this IsaacLab checkout (at v3.0.0), scripts included",
    )
    source.add_argument(
        "--wheel",
        metavar="WHEEL",
        type=Path,
        help=f"diff against this local copy of {WHEEL_NAME} instead of the cached download",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"where the wheel is cached (default: {default_cache_dir()})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the patch file and say what it holds on stderr."""
    args = parse_args(argv)
    try:
        if args.isaaclab is not None:
            source = CheckoutSource(args.isaaclab.resolve())
            if source.version not in (None, ISAACLAB_VERSION):
                print(
                    f"[upstream_patch] Warning: the checkout is at version {source.version}, not {ISAACLAB_VERSION}.",
                    file=sys.stderr,
                )
        else:
            wheel = args.wheel
            if wheel is None:
                wheel = ensure_wheel(args.cache_dir)
            else:
                check_wheel(wheel)
            source = WheelSource(wheel)
        patch, stats = build_patch(source)
        if args.output == "-":
            sys.stdout.write(patch)
        else:
            write_patch(Path(args.output), patch)
    except PatchExportError as error:
        print(f"[upstream_patch] Error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a wheel, cache folder or checkout file that cannot be read or written
        where = f": '{error.filename}'" if error.filename else ""
        print(f"[upstream_patch] Error: {error.strerror or error}{where}", file=sys.stderr)
        return 1

    print(
        f"[upstream_patch] Against {source.description}: {len(stats.changed)} changed, {len(stats.added)} new, "
        f"{len(stats.unchanged)} unchanged file(s)" + (f" -> {args.output}" if args.output != "-" else ""),
        file=sys.stderr,
    )
    for path in stats.left_out:
        print(f"[upstream_patch] Left out (not in the wheel; use --isaaclab): {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
