# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The project's work as a series of pull requests against Isaac Lab 3.0.0, one feature each (as quilt keeps them).

The series lives in ``tools/patch_series/``: a ``series`` file naming the patches in order, and the patches, each a
short description followed by unified diffs in the IsaacLab repository layout (``a/source/...``, ``b/...``). Applied
in order to Isaac Lab 3.0.0, they give the project's files: the package modules, the scripts, the tests the pull
requests carry (``tests/<package>/...`` here, ``source/<package>/test/...`` upstream) and their changelog fragments
(``source/<package>/changelog.d/``).

The stored patches are checked against this repository and Isaac Lab 3.0.0: applied backwards, from the project's
files, they must give Isaac Lab's files. ``refresh`` rewrites them after the code changed: a change of a file goes into
the last patch that touches the file.

Commands (through ``./isaaclab.sh --export-series``, or ``python tools/patch_series.py``)::

    export DIR [--isaaclab PATH | --wheel WHEEL]   write DIR/series and the patches (wheel mode: for ``patch -p3``
                                                   in site-packages; with --isaaclab: for ``git apply``)
    check                                          check the stored series against the project and Isaac Lab
    refresh [--base REV]                           rewrite the stored patches to end at the project's files
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import upstream_patch
from upstream_patch import PROJECT_ROOT, CheckoutSource, PatchExportError, WheelSource, unified_diff

SERIES_DIR = PROJECT_ROOT / "tools" / "patch_series"
"""Where the series is stored: the ``series`` file and the patches."""

TEST_LAYOUT = (
    ("tests/isaaclab/utils/datasets/", "source/isaaclab/test/utils/"),
    ("tests/isaaclab/", "source/isaaclab/test/"),
    ("tests/isaaclab_mimic/", "source/isaaclab_mimic/test/"),
)
"""Where the tests a pull request carries go upstream: ``(prefix here, prefix in the IsaacLab repository)``."""

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class SeriesError(PatchExportError):
    """Raised when the stored series cannot be read, applied, or does not match the project or Isaac Lab."""


@dataclass
class Hunk:
    """One hunk of a unified diff: the old and new line ranges, and its lines with their ``' '``, ``-``, ``+``."""

    old_start: int
    new_start: int
    lines: list[str] = field(default_factory=list)

    def side(self, marks: str) -> list[str]:
        """The hunk's lines on one side: ``" -"`` gives the old text, ``" +"`` the new one."""
        return [line[1:] for line in self.lines if line[0] in marks]


@dataclass
class FileDiff:
    """The diff of one file; ``old_path`` is None for a new file, ``new_path`` None for a deleted one."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The file's path (IsaacLab repository layout)."""
        return self.new_path or self.old_path


@dataclass
class Patch:
    """A stored patch: its file name, its description and its diffs."""

    name: str
    description: str
    diffs: list[FileDiff]

    @property
    def title(self) -> str:
        """The first line of the description."""
        return self.description.splitlines()[0] if self.description else self.name


def upstream_path(repo_path: str) -> str:
    """The path of a file of this repository in the IsaacLab repository (tests move to ``source/<pkg>/test/``)."""
    for here, there in TEST_LAYOUT:
        if repo_path.startswith(here):
            return there + repo_path[len(here) :]
    return repo_path


def repo_path(path: str) -> str:
    """The path in this repository of a file of the IsaacLab repository layout (the inverse of upstream_path)."""
    for here, there in TEST_LAYOUT:
        if path.startswith(there):
            return here + path[len(there) :]
    return path


def parse_patch(name: str, text: str) -> Patch:
    """Read a stored patch: the text before the first ``--- `` line is its description.

    Raises:
        SeriesError: If a diff is malformed.
    """
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("--- ")), len(lines))
    description = "".join(lines[:start]).strip()
    diffs: list[FileDiff] = []
    index = start
    while index < len(lines):
        old, new = lines[index], lines[index + 1] if index + 1 < len(lines) else ""
        if not (old.startswith("--- ") and new.startswith("+++ ")):
            raise SeriesError(f"{name}: expected a '--- '/'+++ ' file header at line {index + 1}, got {old!r}")
        diff = FileDiff(_diff_path(old[4:]), _diff_path(new[4:]))
        index += 2
        while index < len(lines) and lines[index].startswith("@@"):
            match = _HUNK_HEADER.match(lines[index])
            if match is None:
                raise SeriesError(f"{name}: malformed hunk header at line {index + 1}: {lines[index]!r}")
            hunk = Hunk(int(match.group(1)), int(match.group(3)))
            old_left, new_left = int(match.group(2) or 1), int(match.group(4) or 1)
            index += 1
            while old_left > 0 or new_left > 0:
                if index == len(lines):
                    raise SeriesError(f"{name}: the hunk of {diff.path} ends early (the file is cut short)")
                line = lines[index]
                index += 1
                if line.startswith("\\"):  # "\ No newline at end of file": the line before has no newline
                    hunk.lines[-1] = hunk.lines[-1].rstrip("\n")
                    continue
                hunk.lines.append(line)
                old_left -= line[0] in " -"
                new_left -= line[0] in " +"
            if index < len(lines) and lines[index].startswith("\\"):
                hunk.lines[-1] = hunk.lines[-1].rstrip("\n")
                index += 1
            diff.hunks.append(hunk)
        diffs.append(diff)
    return Patch(name, description, diffs)


def _diff_path(header: str) -> str | None:
    path = header.rstrip("\n").split("\t")[0]
    return None if path == "/dev/null" else path[2:]


def apply_diff(text: str | None, diff: FileDiff, reverse: bool = False, where: str = "") -> str | None:
    """Apply one file's diff exactly (no fuzz, no offset), forwards or backwards.

    Args:
        text: The file's text before, or None if it does not exist.
        diff: The diff.
        reverse: Undo the diff instead.
        where: The patch, for messages.

    Returns:
        The file's text after, or None if the file does not exist after.

    Raises:
        SeriesError: If the file does not hold the diff's old side at the hunk's place.
    """
    exists_before = (diff.new_path if reverse else diff.old_path) is not None
    if (text is not None) != exists_before:
        state = "exists" if text is not None else "is missing"
        raise SeriesError(f"{where}: {diff.path} {state}, which the diff does not expect")
    source = [] if text is None else text.splitlines(keepends=True)
    result: list[str] = []
    position = 0
    for hunk in diff.hunks:
        before, after = (hunk.side(" +"), hunk.side(" -")) if reverse else (hunk.side(" -"), hunk.side(" +"))
        start = (hunk.new_start if reverse else hunk.old_start) - (1 if before else 0)
        if start < position or source[start : start + len(before)] != before:
            raise SeriesError(f"{where}: a hunk of {diff.path} at line {start + 1} does not match the file")
        result += source[position:start] + after
        position = start + len(before)
    result += source[position:]
    if not (diff.old_path if reverse else diff.new_path):  # the diff deletes the file: it must take every line
        if result:
            raise SeriesError(f"{where}: {diff.path} holds more than the diff deletes")
        return None
    return "".join(result)


def read_series(directory: Path | None = None) -> list[Patch]:
    """The stored patches, in series order.

    Args:
        directory: The folder of the series (default :data:`SERIES_DIR`).

    Raises:
        SeriesError: If the series file or a patch is missing or malformed.
    """
    directory = directory or SERIES_DIR
    series_file = directory / "series"
    if not series_file.is_file():
        raise SeriesError(f"no series file at {series_file}")
    names = [line.strip() for line in series_file.read_text().splitlines() if line.strip()]
    patches = []
    for name in names:
        path = directory / name
        if not path.is_file():
            raise SeriesError(f"the series names {name}, which is not in {directory}")
        patches.append(parse_patch(name, path.read_text(encoding="utf-8")))
    return patches


def touched_paths(patches: Sequence[Patch]) -> list[str]:
    """Every file the series touches (IsaacLab repository layout), in order of first appearance."""
    return list(dict.fromkeys(diff.path for patch in patches for diff in patch.diffs))


def project_files(paths: Sequence[str], read: Callable[[str], str | None] | None = None) -> dict[str, str | None]:
    """The project's text of each file (None where the project has no such file)."""
    read = read or _read_project_file
    return {path: read(repo_path(path)) for path in paths}


def _read_project_file(path: str) -> str | None:
    file = PROJECT_ROOT / path
    return file.read_text(encoding="utf-8") if file.is_file() else None


def stage_trees(patches: Sequence[Patch], final: dict[str, str | None]) -> list[dict[str, str | None]]:
    """The files before the series and after each patch, found by undoing the patches from the final files.

    Returns:
        ``n + 1`` trees for ``n`` patches: the first is Isaac Lab's (None for files it does not have), the last is
        ``final``.

    Raises:
        SeriesError: If a patch cannot be undone: the stored series does not end at the final files.
    """
    trees = [dict(final)]
    for patch in reversed(patches):
        tree = dict(trees[0])
        for diff in reversed(patch.diffs):
            tree[diff.path] = apply_diff(tree[diff.path], diff, reverse=True, where=patch.name)
        trees.insert(0, tree)
    for index, patch in enumerate(patches):  # and forwards again: each patch gives the next stage
        tree = dict(trees[index])
        for diff in patch.diffs:
            tree[diff.path] = apply_diff(tree[diff.path], diff, where=patch.name)
        if tree != trees[index + 1]:
            raise SeriesError(f"{patch.name}: applied forwards, it does not give the files it was undone from")
    return trees


def check_baseline(baseline: dict[str, str | None], source: WheelSource | CheckoutSource) -> None:
    """Check that the files before the series are Isaac Lab's (files the source has no place for are skipped).

    Raises:
        PatchExportError: If the source lacks a file the series changes, has one it adds (it holds the patch
            already), or a file differs.
    """
    lacking, patched, differing = [], [], []
    for path, text in baseline.items():
        if not source.has_place_for(path):
            continue
        upstream = source.read(path)
        if upstream == text:
            continue
        (lacking if upstream is None else patched if text is None else differing).append(path)
    problems = [f"it lacks {', '.join(lacking)}"] if lacking else []
    if patched:
        problems.append(f"it already has the patch's new files ({', '.join(patched)}): is it this project?")
    if differing:
        problems.append(
            f"its {', '.join(differing)} differ from what the series starts from (if the series is stale, run"
            " 'python tools/patch_series.py refresh')"
        )
    if problems:
        raise PatchExportError(
            f"{source.description} is not Isaac Lab {upstream_patch.ISAACLAB_VERSION}: {'; '.join(problems)}"
        )


def render_patch(patch: Patch, before: dict[str, str | None], after: dict[str, str | None], paths: list[str]) -> str:
    """A patch's text: its description, then the diff of each of ``paths`` from ``before`` to ``after``."""
    diffs = [_diff_between(path, before[path], after[path]) for path in paths]
    return f"{patch.description}\n\n" + "".join(diff for diff in diffs if diff)


def _diff_between(path: str, old: str | None, new: str | None) -> str:
    if new is None:
        return "" if old is None else unified_diff(path, old, "").replace(f"+++ b/{path}", "+++ /dev/null", 1)
    return unified_diff(path, old, new)


"""
Commands.
"""


def check(source: WheelSource | CheckoutSource) -> list[dict[str, str | None]]:
    """Check that the stored series goes from Isaac Lab to the project's files.

    Returns:
        The stage trees (see :func:`stage_trees`).

    Raises:
        SeriesError: If a patch does not undo from the project's files (run ``refresh``).
        PatchExportError: If the files before the series are not the source's (see :func:`check_baseline`).
    """
    patches = read_series()
    try:
        trees = stage_trees(patches, project_files(touched_paths(patches)))
    except SeriesError as error:
        raise SeriesError(f"{error} (if the project's files changed since, run 'python tools/patch_series.py refresh')")
    check_baseline(trees[0], source)
    return trees


def export(directory: Path, source: WheelSource | CheckoutSource, wheel_mode: bool) -> tuple[list[str], list[str]]:
    """Write ``directory/series`` and the patches, checked first.

    In wheel mode the patches are laid out for ``patch -p3`` in the site-packages of a pip-installed Isaac Lab: the
    tests go where the wheel keeps Isaac Lab's (``isaaclab/source/<package>/test/``), and the scripts and changelog
    fragments, which the wheel has no place for, are left out.

    Returns:
        The patch file names written, and the files left out.

    Raises:
        SeriesError: If the series does not check out (see :func:`check`).
    """
    trees = check(source)
    patches = read_series()
    written, left_out = [], []
    directory.mkdir(parents=True, exist_ok=True)
    for index, patch in enumerate(patches):
        paths = [diff.path for diff in patch.diffs]
        if wheel_mode:
            left_out += [path for path in paths if not in_wheel(path)]
            paths = [path for path in paths if in_wheel(path)]
        text = render_patch(patch, trees[index], trees[index + 1], paths)
        if wheel_mode:
            text = wheel_layout(text)
        (directory / patch.name).write_text(text, encoding="utf-8")
        written.append(patch.name)
    (directory / "series").write_text("".join(f"{name}\n" for name in written), encoding="utf-8")
    return written, left_out


def in_wheel(path: str) -> bool:
    """Whether the wheel has a place for a file: a package module, or a test of a package."""
    return upstream_patch.wheel_path(path) is not None or re.match(r"source/[^/]+/test/", path) is not None


def wheel_layout(text: str) -> str:
    """Move the tests' paths to where the wheel keeps tests: ``isaaclab/source/<package>/test/`` (for ``-p3``)."""
    return re.sub(
        r"^(---|\+\+\+) ([ab])/source/([^/]+)/test/",
        lambda match: (
            f"{match.group(1)} {match.group(2)}/source/{match.group(3)}/isaaclab/source/{match.group(3)}/test/"
        ),
        text,
        flags=re.MULTILINE,
    )


def refresh(base: str = "HEAD") -> list[str]:
    """Rewrite the stored patches so that they end at the project's files.

    The stages are found by undoing the series as stored at ``base`` (a commit at which it checked out) from the files
    as they are at ``base``; each file that changed since goes, whole, into the last patch that touches it. Refreshing
    twice from the same base gives the same patches.

    Returns:
        The patches rewritten.

    Raises:
        SeriesError: If the series at ``base`` does not undo from the files at ``base``.
    """
    patches = _read_series_at(base)
    paths = touched_paths(patches)
    try:
        trees = stage_trees(patches, project_files(paths, lambda path: _read_at(base, path)))
    except SeriesError as error:
        raise SeriesError(
            f"{error} at {base}: give --base a commit at which the series checked out (the one before the change)"
        )
    final = project_files(paths)
    changed = set()
    for path in paths:
        if final[path] == trees[-1][path]:
            continue
        last = max(index for index, patch in enumerate(patches) if path in {diff.path for diff in patch.diffs})
        for tree in trees[last + 1 :]:
            tree[path] = final[path]
        changed.add(last)
    for index, patch in enumerate(patches):
        text = render_patch(patch, trees[index], trees[index + 1], [diff.path for diff in patch.diffs])
        (SERIES_DIR / patch.name).write_text(text, encoding="utf-8")
    (SERIES_DIR / "series").write_text("".join(f"{patch.name}\n" for patch in patches), encoding="utf-8")
    return [patches[index].name for index in sorted(changed)]


def _read_series_at(revision: str) -> list[Patch]:
    folder = SERIES_DIR.relative_to(PROJECT_ROOT).as_posix()
    names = _read_at(revision, f"{folder}/series")
    if names is None:
        raise SeriesError(f"{revision} has no {folder}/series")
    patches = []
    for name in names.split():
        text = _read_at(revision, f"{folder}/{name}")
        if text is None:
            raise SeriesError(f"the series at {revision} names {name}, which is not in {folder}")
        patches.append(parse_patch(name, text))
    return patches


def _read_at(revision: str, path: str) -> str | None:
    result = subprocess.run(
        ["git", "show", f"{revision}:{path}"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="patch_series.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export_parser = commands.add_parser("export", help="write the series (checked) to a folder")
    export_parser.add_argument("directory", type=Path, help="the folder to write DIR/series and the patches to")
    check_parser = commands.add_parser("check", help="check the stored series against the project and Isaac Lab")
    for sub in (export_parser, check_parser):
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--isaaclab", metavar="PATH", type=Path, help="an IsaacLab v3.0.0 checkout (git apply)")
        source.add_argument("--wheel", metavar="WHEEL", type=Path, help="a local copy of the isaaclab 3.0.0 wheel")
    refresh_parser = commands.add_parser("refresh", help="rewrite the stored patches to end at the project's files")
    refresh_parser.add_argument("--base", default="HEAD", help="a commit at which the series checked (default HEAD)")
    return parser.parse_args(argv)


def _source(args: argparse.Namespace) -> WheelSource | CheckoutSource:
    if args.isaaclab is not None:
        return CheckoutSource(args.isaaclab.resolve())
    wheel = args.wheel or upstream_patch.ensure_wheel()
    upstream_patch.check_wheel(wheel)
    return WheelSource(wheel)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    args = parse_args(argv)
    try:
        if args.command == "refresh":
            rewritten = refresh(args.base)
            print(f"[patch_series] Rewrote {len(rewritten)} patch(es): {', '.join(rewritten) or 'none'}")
            return 0
        source = _source(args)
        if args.command == "check":
            check(source)
            print(f"[patch_series] The series goes from {source.description} to the project's files.")
            return 0
        written, left_out = export(args.directory, source, wheel_mode=args.isaaclab is None)
    except PatchExportError as error:
        print(f"[patch_series] Error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f": '{error.filename}'" if error.filename else ""
        print(f"[patch_series] Error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    print(f"[patch_series] Wrote {len(written)} patches and {args.directory / 'series'} against {source.description}.")
    for path in dict.fromkeys(left_out):
        print(f"[patch_series] Left out (the wheel has no place for it; use --isaaclab): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
