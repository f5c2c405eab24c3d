# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""tools/patch_series.py: stored patches apply exactly forwards and backwards, a mismatch names the patch, the file
and the line, ``export`` lays the series out for ``patch -p3`` in site-packages, and ``refresh`` puts a change into
the last patch that touches the file.

A small fake project (a git repository) with a two-patch series stands in for the real one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

MODULE = "source/isaaclab/isaaclab/managers/recorder_manager.py"
NEW_MODULE = "source/isaaclab/isaaclab/utils/datasets/episode_writer.py"
TEST = "tests/isaaclab/managers/test_writer.py"  # upstream: source/isaaclab/test/managers/test_writer.py
FRAGMENT = "source/isaaclab/changelog.d/writer.rst"  # the wheel has no place for it

UPSTREAM = {MODULE: "".join(f"line {i}\n" for i in range(40))}
STAGE_ONE = {
    MODULE: UPSTREAM[MODULE].replace("line 5\n", "first 5\n"),
    NEW_MODULE: "class EpisodeWriter:\n    pass\n",
    TEST: "def test_writer():\n    assert 1\n",
    FRAGMENT: "Added\n^^^^^\n\n* The episode writer.\n",
}
PROJECT = {
    **STAGE_ONE,
    MODULE: STAGE_ONE[MODULE].replace("line 30\n", "second 30\n"),
}


def _diff(series, path: str, old: str | None, new: str | None) -> str:
    return series.render_patch(series.Patch("p", "", []), {path: old}, {path: new}, [path]).lstrip("\n")


@pytest.mark.parametrize(
    "old, new",
    [
        ("a\nb\nc\n", "a\nB\nc\nd\n"),  # a change and an addition
        ("a\nb", "a\nb\nc"),  # no final newline on either side
        ("a\nb", "a\nb\n"),  # a final newline added
        (None, "new file\n"),  # a new file
        ("old file\n", None),  # a deleted file
        ("".join(f"{i}\n" for i in range(50)), "".join(f"{i}\n" for i in range(50) if i not in (3, 40))),  # two hunks
    ],
)
def test_a_diff_applies_forwards_and_backwards_exactly(series, old, new):
    """Render, parse, apply: forwards gives the new text, backwards the old one (None: no file)."""
    patch = series.parse_patch("0001-x.patch", "Title\n\nBody.\n\n" + _diff(series, MODULE, old, new))
    assert patch.title == "Title" and [diff.path for diff in patch.diffs] == [MODULE]
    assert series.apply_diff(old, patch.diffs[0], where=patch.name) == new
    assert series.apply_diff(new, patch.diffs[0], reverse=True, where=patch.name) == old


def test_a_diff_that_does_not_match_names_the_patch_the_file_and_the_line(series):
    """No fuzz and no offset: a changed context line or a file that already exists is an error, never a guess."""
    old = "".join(f"line {i}\n" for i in range(20))
    diff = series.parse_patch("0002-y.patch", _diff(series, MODULE, old, old.replace("line 10\n", "ten\n"))).diffs[0]
    with pytest.raises(series.SeriesError, match=r"0002-y.patch: a hunk of .*recorder_manager.py at line 8 "):
        series.apply_diff(old.replace("line 9\n", "nine\n"), diff, where="0002-y.patch")
    with pytest.raises(series.SeriesError, match=r"0002-y.patch: a hunk of .*recorder_manager.py at line 8 "):
        series.apply_diff("".join(f"line {i}\n" for i in range(1, 20)), diff, where="0002-y.patch")  # moved by one
    created = series.parse_patch("0003-z.patch", _diff(series, NEW_MODULE, None, "x\n")).diffs[0]
    with pytest.raises(series.SeriesError, match=r"0003-z.patch: .*episode_writer.py exists, which the diff does not"):
        series.apply_diff("x\n", created, where="0003-z.patch")


def test_a_malformed_patch_is_refused_with_its_name(series):
    text = _diff(series, MODULE, "a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(series.SeriesError, match="0004-cut.patch: the hunk of .*recorder_manager.py ends early"):
        series.parse_patch("0004-cut.patch", text.rsplit("\n", 2)[0] + "\n")
    with pytest.raises(series.SeriesError, match="0005-bad.patch: malformed hunk header at line 3"):
        series.parse_patch("0005-bad.patch", text.replace("@@ -", "@@ x", 1))


@pytest.fixture
def project(series, write_tree, tmp_path, monkeypatch):
    """A fake project in a git repository, with a two-patch series from UPSTREAM to STAGE_ONE to PROJECT, committed,
    and a fake isaaclab wheel holding UPSTREAM; the tool pointed at them."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "project"
    write_tree(root, PROJECT)
    paths = [series.upstream_path(path) for path in (MODULE, NEW_MODULE, TEST, FRAGMENT)]
    trees = [
        {series.upstream_path(path): texts.get(path) for path in (MODULE, NEW_MODULE, TEST, FRAGMENT)}
        for texts in (UPSTREAM, STAGE_ONE, PROJECT)
    ]
    directory = root / "tools" / "patch_series"
    directory.mkdir(parents=True)
    names = ["0001-writer.patch", "0002-recorder.patch"]
    for index, name in enumerate(names):
        changed = [path for path in paths if trees[index][path] != trees[index + 1][path]]
        patch = series.Patch(name, f"Patch {index + 1}\n\nWhat it does.", [])
        (directory / name).write_text(series.render_patch(patch, trees[index], trees[index + 1], changed))
    (directory / "series").write_text("".join(f"{name}\n" for name in names))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "series"], check=True)
    monkeypatch.setattr(series, "PROJECT_ROOT", root)
    monkeypatch.setattr(series, "SERIES_DIR", directory)
    wheel = tmp_path / "isaaclab-3.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("isaaclab/managers/recorder_manager.py", UPSTREAM[MODULE])
    return {"root": root, "series_dir": directory, "wheel": wheel, "tmp": tmp_path}


def test_check_gives_isaac_lab_and_every_stage(series, project):
    trees = series.check(series.WheelSource(project["wheel"]))
    stages = [{series.repo_path(path): text for path, text in tree.items() if text is not None} for tree in trees]
    assert stages == [UPSTREAM, STAGE_ONE, PROJECT]


def test_check_of_a_file_changed_inside_a_hunk_says_to_refresh(series, project, write_tree):
    write_tree(project["root"], {MODULE: PROJECT[MODULE].replace("second 30\n", "other 30\n")})
    with pytest.raises(
        series.SeriesError, match=r"0002-recorder.patch: a hunk of .*recorder_manager.py at line .*refresh"
    ):
        series.check(series.WheelSource(project["wheel"]))


def test_check_refuses_a_wheel_with_other_files(series, project):
    with zipfile.ZipFile(project["wheel"], "w") as archive:
        archive.writestr("isaaclab/managers/recorder_manager.py", "something else\n")
        archive.writestr("isaaclab/utils/datasets/episode_writer.py", "already here\n")
    with pytest.raises(series.PatchExportError) as error:
        series.check(series.WheelSource(project["wheel"]))
    message = str(error.value)
    assert "already has the patch's new files (source/isaaclab/isaaclab/utils/datasets/episode_writer.py)" in message
    assert "its source/isaaclab/isaaclab/managers/recorder_manager.py differ" in message and "refresh" in message


def test_export_in_wheel_mode_applies_with_patch_p3_one_patch_after_the_other(series, project):
    """Tests go where the wheel keeps them, the changelog fragment is left out, and each patch applies in order."""
    if shutil.which("patch") is None:
        pytest.skip("needs GNU patch")
    out = project["tmp"] / "out"
    written, left_out = series.export(out, series.WheelSource(project["wheel"]), wheel_mode=True)
    assert written == ["0001-writer.patch", "0002-recorder.patch"]
    assert (out / "series").read_text().split() == written
    assert left_out == [FRAGMENT]
    first = (out / written[0]).read_text()
    assert first.startswith("Patch 1\n\nWhat it does.\n")
    assert "+++ b/source/isaaclab/isaaclab/source/isaaclab/test/managers/test_writer.py\n" in first
    assert "changelog.d" not in first

    site_packages = project["tmp"] / "site-packages"
    (site_packages / "isaaclab" / "managers").mkdir(parents=True)
    (site_packages / "isaaclab" / "managers" / "recorder_manager.py").write_text(UPSTREAM[MODULE])
    for index, name in enumerate(written):
        command = ["patch", "-p3", "--batch", "--forward", "-d", str(site_packages), "-i", str(out / name)]
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        expected = (STAGE_ONE, PROJECT)[index][MODULE]
        assert (site_packages / "isaaclab" / "managers" / "recorder_manager.py").read_text() == expected
    installed_test = site_packages / "isaaclab" / "source" / "isaaclab" / "test" / "managers" / "test_writer.py"
    assert installed_test.read_text() == PROJECT[TEST]


def test_refresh_puts_each_change_into_the_last_patch_that_touches_the_file(series, project, write_tree):
    """A change of a file touched by both patches goes into the second; one touched only by the first, into it."""
    edited = {
        MODULE: PROJECT[MODULE].replace("line 35\n", "third 35\n"),
        NEW_MODULE: "class EpisodeWriter:\n    threads = 1\n",
    }
    write_tree(project["root"], edited)
    # stale until refreshed: the change is outside the hunks, so the series undoes, but not to Isaac Lab's file
    with pytest.raises(series.PatchExportError, match="recorder_manager.py differ from .* run .*refresh"):
        series.check(series.WheelSource(project["wheel"]))
    before = {name: (project["series_dir"] / name).read_text() for name in ("0001-writer.patch", "0002-recorder.patch")}

    assert series.refresh("HEAD") == ["0001-writer.patch", "0002-recorder.patch"]

    trees = series.check(series.WheelSource(project["wheel"]))
    stages = [{series.repo_path(path): text for path, text in tree.items() if text is not None} for tree in trees]
    assert stages[0] == UPSTREAM
    assert stages[1] == {**STAGE_ONE, NEW_MODULE: edited[NEW_MODULE]}
    assert stages[2] == {**PROJECT, **edited}
    after = {name: (project["series_dir"] / name).read_text() for name in before}
    assert "+third 35\n" in after["0002-recorder.patch"] and "third 35" not in after["0001-writer.patch"]
    assert all(text.startswith(f"Patch {i + 1}\n\nWhat it does.\n") for i, text in enumerate(after.values()))
    assert series.refresh("HEAD") == ["0001-writer.patch", "0002-recorder.patch"]  # idempotent from the same base
    assert {name: (project["series_dir"] / name).read_text() for name in before} == after


def test_command_line_check_refuses_a_wheel_that_is_not_the_release(tmp_path):
    """``check --wheel`` with a file whose digest is not the 3.0.0 release's: exit 1 and a message naming it."""
    fake_wheel = tmp_path / "isaaclab-3.0.0-py3-none-any.whl"
    with zipfile.ZipFile(fake_wheel, "w") as archive:
        archive.writestr("isaaclab/__init__.py", "")
    command = [sys.executable, str(REPO_ROOT / "tools" / "patch_series.py"), "check", "--wheel", str(fake_wheel)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and f"'{fake_wheel}' is not the isaaclab-3.0.0" in result.stderr, result.stderr
