# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""tools/upstream_patch.py: the diff it writes applies with ``patch -p3`` and ``git apply`` and gives the project's
files; a listed file missing in the project fails loudly; the patch list names every module the patch imports.

The first tests use small fake trees (no network); the last one reads the real Isaac Lab 3.0.0 wheel (``upstream``).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


FAKE_SERIES_FILES = (
    "source/isaaclab/isaaclab/managers/recorder_manager.py",  # changed
    "source/isaaclab/isaaclab/utils/datasets/episode_writer.py",  # new (not upstream)
    "source/isaaclab/isaaclab/utils/datasets/__init__.pyi",  # changed, no final newline on either side
    "source/isaaclab_mimic/isaaclab_mimic/datagen/generation.py",  # changed
    "tests/isaaclab/managers/test_writer.py",  # a test the series carries (source/isaaclab/test/ upstream)
)
FAKE_SCRIPTS = ("scripts/imitation_learning/isaaclab_mimic/generate_dataset.py",)  # changed (checkout only)

UPSTREAM_TEXT = {
    "source/isaaclab/isaaclab/managers/recorder_manager.py": "".join(f"line {i}\n" for i in range(30)),
    "source/isaaclab/isaaclab/utils/datasets/__init__.pyi": '__all__ = ["EpisodeData"]\nfrom .x import EpisodeData',
    "source/isaaclab/isaaclab/envs/mdp/recorders/recorders_cfg.py": "unchanged = True\n",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/generation.py": "def env_loop():\n    pass\n",
    "scripts/imitation_learning/isaaclab_mimic/generate_dataset.py": "print('upstream')\n",
}
STAGE_ONE_TEXT = {  # the files after the first of the two patches of the fake series
    "source/isaaclab/isaaclab/managers/recorder_manager.py": "".join(
        f"line {i}\n" if i != 3 else "changed 3\n" for i in range(30)
    ),
    "source/isaaclab/isaaclab/utils/datasets/episode_writer.py": "class EpisodeWriter:\n    pass\n",
    "source/isaaclab/isaaclab/utils/datasets/__init__.pyi": '__all__ = ["EpisodeData", "W"]\nfrom .x import W',
    "tests/isaaclab/managers/test_writer.py": "def test_writer():\n    assert True\n",
}
PROJECT_TEXT = {
    "source/isaaclab/isaaclab/managers/recorder_manager.py": "".join(
        f"line {i}\n" if i not in (3, 20) else f"changed {i}\n" for i in range(30)
    )
    + "added\n",
    "source/isaaclab/isaaclab/utils/datasets/episode_writer.py": "class EpisodeWriter:\n    pass\n",
    "source/isaaclab/isaaclab/utils/datasets/__init__.pyi": '__all__ = ["EpisodeData", "W"]\nfrom .x import W',
    "source/isaaclab/isaaclab/envs/mdp/recorders/recorders_cfg.py": "unchanged = True\n",
    "source/isaaclab_mimic/isaaclab_mimic/datagen/generation.py": "def env_loop(async_write=False):\n    pass\n",
    "tests/isaaclab/managers/test_writer.py": "def test_writer():\n    assert True\n",
    "scripts/imitation_learning/isaaclab_mimic/generate_dataset.py": "print('patched')\n",
}


def write_fake_series(series_module, directory: Path) -> None:
    """Two patches from UPSTREAM_TEXT to STAGE_ONE_TEXT to PROJECT_TEXT (upstream paths)."""
    paths = [series_module.upstream_path(path) for path in FAKE_SERIES_FILES]

    def tree(texts: dict[str, str]) -> dict[str, str | None]:
        return {series_module.upstream_path(path): texts.get(path) for path in FAKE_SERIES_FILES}

    trees = [tree(UPSTREAM_TEXT), tree({**UPSTREAM_TEXT, **STAGE_ONE_TEXT}), tree(PROJECT_TEXT)]
    names = ["0001-first.patch", "0002-second.patch"]
    directory.mkdir(parents=True)
    for index, name in enumerate(names):
        patch = series_module.Patch(name, f"Patch {index + 1}\n\nWhat it does.", [])
        changed = [path for path in paths if trees[index][path] != trees[index + 1][path]]
        (directory / name).write_text(series_module.render_patch(patch, trees[index], trees[index + 1], changed))
    (directory / "series").write_text("".join(f"{name}\n" for name in names))


@pytest.fixture
def fake(tool, series, write_tree, tmp_path, monkeypatch):
    """A fake project with a fake series, a fake wheel and a fake IsaacLab checkout; the tools pointed at them."""
    patch_series = series
    project = tmp_path / "project"
    write_tree(project, PROJECT_TEXT)
    write_fake_series(patch_series, project / "tools" / "patch_series")
    for module in (tool, patch_series):
        monkeypatch.setattr(module, "PROJECT_ROOT", project)
    monkeypatch.setattr(patch_series, "SERIES_DIR", project / "tools" / "patch_series")
    monkeypatch.setattr(tool, "SCRIPT_FILES", FAKE_SCRIPTS)
    checkout = tmp_path / "checkout"
    write_tree(checkout, UPSTREAM_TEXT)
    wheel = tmp_path / "isaaclab-3.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in UPSTREAM_TEXT.items():
            if tool.wheel_path(path) is not None:
                archive.writestr(tool.wheel_path(path), text)
    return {"project": project, "checkout": checkout, "wheel": wheel, "root": tmp_path, "series": patch_series}


def test_wheel_paths(tool):
    """``source/<pkg>/<pkg>/X`` is ``<pkg>/X`` in the wheel; scripts are not in the wheel."""
    assert tool.wheel_path("source/isaaclab/isaaclab/utils/datasets/episode_data.py") == (
        "isaaclab/utils/datasets/episode_data.py"
    )
    assert tool.wheel_path("source/isaaclab_mimic/isaaclab_mimic/datagen/generation.py") == (
        "isaaclab_mimic/datagen/generation.py"
    )
    assert tool.wheel_path("scripts/imitation_learning/isaaclab_mimic/generate_dataset.py") is None
    assert tool.wheel_path("source/isaaclab/test/conftest.py") is None


def test_the_stored_series_undoes_from_the_project_files(series):
    """Applied backwards from this repository's files, every stored patch of the real series applies exactly."""
    patches = series.read_series()
    trees = series.stage_trees(patches, series.project_files(series.touched_paths(patches)))
    assert len(trees) == len(patches) + 1 >= 2


def test_wheel_mode_diff_applies_with_patch_p3_in_site_packages(tool, fake):
    """Against the wheel: scripts left out, new files from /dev/null, tests where the wheel keeps them, and
    ``patch -p3`` gives the project's files."""
    text, stats = tool.build_patch(tool.WheelSource(fake["wheel"]))
    assert stats.left_out == list(FAKE_SCRIPTS)
    assert sorted(stats.added) == [
        "source/isaaclab/isaaclab/utils/datasets/episode_writer.py",
        "source/isaaclab/test/managers/test_writer.py",
    ]
    assert "--- /dev/null\n+++ b/source/isaaclab/isaaclab/utils/datasets/episode_writer.py\n" in text
    assert "+++ b/source/isaaclab/isaaclab/source/isaaclab/test/managers/test_writer.py\n" in text
    assert "\\ No newline at end of file\n" in text
    assert "scripts/" not in text

    site_packages = fake["root"] / "site-packages"
    with zipfile.ZipFile(fake["wheel"]) as archive:
        archive.extractall(site_packages)
    (fake["root"] / "wheel.patch").write_text(text)
    result = subprocess.run(
        ["patch", "-p3", "--batch", "--forward", "-d", str(site_packages), "-i", str(fake["root"] / "wheel.patch")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in FAKE_SERIES_FILES[:4]:
        assert (site_packages / tool.wheel_path(path)).read_text() == PROJECT_TEXT[path], path
    installed_test = site_packages / "isaaclab" / "source" / "isaaclab" / "test" / "managers" / "test_writer.py"
    assert installed_test.read_text() == PROJECT_TEXT["tests/isaaclab/managers/test_writer.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_checkout_mode_diff_applies_with_git_apply(tool, fake):
    """Against a checkout: scripts included, tests in source/<package>/test/, and ``git apply`` gives the project's
    files."""
    text, stats = tool.build_patch(tool.CheckoutSource(fake["checkout"]))
    assert stats.left_out == []
    assert "+++ b/scripts/imitation_learning/isaaclab_mimic/generate_dataset.py\n" in text
    checkout = fake["checkout"]
    (fake["root"] / "checkout.patch").write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    result = subprocess.run(
        ["git", "apply", "--check", str(fake["root"] / "checkout.patch")], cwd=checkout, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    subprocess.run(["git", "apply", str(fake["root"] / "checkout.patch")], cwd=checkout, check=True)
    for path in FAKE_SERIES_FILES + FAKE_SCRIPTS:
        assert (checkout / fake["series"].upstream_path(path)).read_text() == PROJECT_TEXT[path], path


def test_a_project_file_that_changed_since_the_series_was_made_fails_loudly(tool, fake):
    """A file the series does not end at is an error that names the patch and the file, and says to refresh."""
    (fake["project"] / "source/isaaclab/isaaclab/managers/recorder_manager.py").write_text("rewritten\n")
    with pytest.raises(tool.PatchExportError, match="0002-second.patch: a hunk of .*recorder_manager.py"):
        tool.build_patch(tool.WheelSource(fake["wheel"]))


def test_command_line_writes_the_patch_and_refuses_another_wheel(tool, fake):
    """The command line writes the file; a wheel that is not the 3.0.0 release is refused (exit 1)."""
    output = fake["root"] / "out" / "recorder.patch"
    command = [
        sys.executable,
        str(REPO_ROOT / "tools" / "upstream_patch.py"),
        str(output),
        "--wheel",
        str(fake["wheel"]),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and "is not the isaaclab-3.0.0" in result.stderr, result.stderr
    assert not output.exists()
    result = subprocess.run(command[:3] + ["--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "scripts/" in result.stdout and "patch -p3" in result.stdout


def test_a_source_that_is_not_isaaclab_3_0_0_is_refused(tool, fake, write_tree):
    """This project, an empty ``source/isaaclab/isaaclab``, a checkout missing a changed file, or one that has a file
    the patch adds: an error that says which, never an empty or all-new patch."""
    with pytest.raises(tool.PatchExportError, match="is this project, not an IsaacLab checkout"):
        tool.CheckoutSource(fake["project"])

    empty = fake["root"] / "empty"
    (empty / "source" / "isaaclab" / "isaaclab").mkdir(parents=True)
    with pytest.raises(tool.PatchExportError, match=r"is not Isaac Lab 3\.0\.0: it lacks .*recorder_manager\.py"):
        tool.build_patch(tool.CheckoutSource(empty))

    checkout = fake["checkout"]
    (checkout / FAKE_SERIES_FILES[0]).unlink()
    with pytest.raises(tool.PatchExportError, match=f"it lacks {FAKE_SERIES_FILES[0]}$"):
        tool.build_patch(tool.CheckoutSource(checkout))

    write_tree(fake["root"] / "patched", PROJECT_TEXT)
    with pytest.raises(tool.PatchExportError, match="already has the patch's new files .*episode_writer.py"):
        tool.build_patch(tool.CheckoutSource(fake["root"] / "patched"))


def test_command_line_refuses_this_project_as_the_checkout(tool, tmp_path):
    """The real list and project: ``--isaaclab`` at this repository is an error (exit 1) and writes nothing."""
    output = tmp_path / "p.diff"
    command = [
        sys.executable,
        str(REPO_ROOT / "tools" / "upstream_patch.py"),
        str(output),
        "--isaaclab",
        str(REPO_ROOT),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and not output.exists()
    assert result.stderr.splitlines() == [
        f"[upstream_patch] Error: '{REPO_ROOT}' is this project, not an IsaacLab checkout: pass an IsaacLab v3.0.0 one."
    ]


def test_paths_that_cannot_be_written_or_read_are_a_one_line_error(tool, fake, capsys):
    a_file = fake["root"] / "a_file"
    a_file.write_text("x")
    checkout = ["--isaaclab", str(fake["checkout"])]
    cases = [
        ([str(fake["root"]), *checkout], f"cannot write the patch to '{fake['root']}': Is a directory"),
        ([str(a_file / "p.diff"), *checkout], f"cannot write the patch to '{a_file / 'p.diff'}': '{a_file}' is not a"),
        (["p.diff", "--wheel", str(fake["root"] / "missing.whl")], f"No such file or directory: '{fake['root']}"),
        (["p.diff", "--cache-dir", str(a_file / "cache")], f"Not a directory: '{a_file / 'cache'}'"),
    ]
    for argv, message in cases:
        assert tool.main(argv) == 1, argv
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"[upstream_patch] Error: {message}"), (argv, lines)
    assert a_file.read_text() == "x" and not (Path.cwd() / "p.diff").exists()


def imported_modules(path: Path, package: str) -> set[str]:
    """The isaaclab* modules a file needs: ``from X import n`` gives X, and X.n in case n is a submodule.

    Imports in a ``try`` block that handles ``ImportError`` are optional and left out.

    Args:
        path: The file.
        package: The package the file is in (resolves relative imports; empty for a script).
    """
    tree = ast.parse(path.read_text())
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in node.handlers
        ):
            optional.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    names = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0].startswith("isaaclab")}


@pytest.mark.upstream
def test_every_project_module_the_patch_imports_is_in_the_patch(tool, series):
    """Each isaaclab* module of the project that a patched file imports is in Isaac Lab 3.0.0 or in the series.

    A new project module used by the patch but missing from the stored series would make the patched Isaac Lab fail
    to import; this names it without running anything.
    """
    patched = [series.repo_path(path) for path in series.touched_paths(series.read_series())]
    patched += list(tool.SCRIPT_FILES)
    with zipfile.ZipFile(tool.ensure_wheel()) as archive:
        available = set(archive.namelist())
    available |= {tool.wheel_path(path) for path in patched} - {None}

    missing = {}
    for repo_path in patched:
        if not repo_path.endswith(".py"):
            continue
        in_wheel = tool.wheel_path(repo_path)
        package = in_wheel.rpartition("/")[0].replace("/", ".") if in_wheel else ""
        for name in sorted(imported_modules(REPO_ROOT / repo_path, package)):
            stem = name.replace(".", "/")
            candidates = [f"{stem}.py", f"{stem}/__init__.py", f"{stem}/__init__.pyi"]
            project_dir = REPO_ROOT / "source" / name.split(".")[0]
            in_project = any((project_dir / candidate).is_file() for candidate in candidates)
            if in_project and not any(candidate in available for candidate in candidates):
                missing.setdefault(repo_path, []).append(name)
    assert not missing, (
        f"project modules imported by the patch, neither in Isaac Lab 3.0.0 nor in the series: {missing}"
    )
