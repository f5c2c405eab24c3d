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

The files come from the series of pull requests in ``tools/patch_series/`` (see ``patch_series.py``), which the
whole diff composes, plus :data:`SCRIPT_FILES`. Run it through ``./isaaclab.sh --export-patch``.
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

SCRIPT_FILES: tuple[str, ...] = (
    "scripts/imitation_learning/isaaclab_mimic/generate_dataset.py",
    "scripts/tools/merge_hdf5_datasets.py",
)
"""Isaac Lab scripts that the project changes, outside the series of pull requests (``tools/patch_series/``).

Isaac Lab 3.0.0 ships its scripts only in its git repository, not in the wheel, and that version of them was not
available to split their changes by feature: the whole patch diffs them against an IsaacLab checkout instead.
"""


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

    The lines are matched without difflib's "popular line" heuristic, which on long files treats blank lines as junk
    and gives needlessly long diffs.

    Args:
        repo_path: The file's path in the repository layout.
        old: Isaac Lab's text, or None if Isaac Lab does not have the file (a new-file diff from ``/dev/null``).
        new: The project's text.

    Returns:
        The diff text (empty if the texts are equal). Lines without a final newline are marked as diff tools do.
    """
    old_lines = [] if old is None else old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    out = []
    for group in matcher.get_grouped_opcodes(3):
        if not out:
            out += [f"--- {'/dev/null' if old is None else f'a/{repo_path}'}\n", f"+++ b/{repo_path}\n"]
        (_, old_start, _, new_start, _), (*_, old_end, _, new_end) = group[0], group[-1]
        out.append(f"@@ -{_range(old_start, old_end)} +{_range(new_start, new_end)} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in old_lines[i1:i2]]
                continue
            out += ["-" + line for line in old_lines[i1:i2]]
            out += ["+" + line for line in new_lines[j1:j2]]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def _range(start: int, end: int) -> str:
    """A hunk's line range as unified diffs write it (1-based start; an empty range starts before its place)."""
    length = end - start
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def build_patch(source: WheelSource | CheckoutSource) -> tuple[str, PatchStats]:
    """The patch from Isaac Lab's files to the project's: the series composed, and :data:`SCRIPT_FILES`.

    Against the wheel, the tests go where the wheel keeps Isaac Lab's, and the scripts and changelog fragments, which
    it has no place for, are left out.

    Args:
        source: Where Isaac Lab's files come from.

    Returns:
        The diff text and what it holds.

    Raises:
        PatchExportError: If the source is not Isaac Lab 3.0.0 (it lacks a file the patch changes, has one it adds,
            or differs), a script is missing, or the stored series does not end at the project's files.
    """
    import patch_series

    wheel_mode = isinstance(source, WheelSource)
    trees = patch_series.check(source)
    stats = PatchStats(changed=[], added=[], unchanged=[], left_out=[])
    texts = [(path, trees[0][path], trees[-1][path]) for path in trees[0]]
    for path in SCRIPT_FILES:
        if wheel_mode:
            stats.left_out.append(path)
            continue
        old = source.read(path)
        if old is None:
            raise PatchExportError(f"{source.description} is not Isaac Lab {ISAACLAB_VERSION}: it lacks {path}")
        texts.append((path, old, (PROJECT_ROOT / path).read_text(encoding="utf-8")))
    diffs = []
    for path, old, new in texts:
        if wheel_mode and not patch_series.in_wheel(path):
            stats.left_out.append(path)
            continue
        diff = unified_diff(path, old, new)
        if not diff:
            stats.unchanged.append(path)
            continue
        (stats.added if old is None else stats.changed).append(path)
        diffs.append(diff)
    patch = "".join(diffs)
    return (patch_series.wheel_layout(patch) if wheel_mode else patch), stats


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
