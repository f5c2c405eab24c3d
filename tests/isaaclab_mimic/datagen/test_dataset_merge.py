# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Merging dataset files (shards) into one: renumbering, values, attributes, env_args, crash safety, corrupt demos,
different layouts, and the merge script (upstream's ``scripts/tools/merge_hdf5_datasets.py``, extended)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

from isaaclab_mimic.datagen.dataset_merge import (
    DatasetLayoutError,
    DemoReadError,
    find_dataset_files,
    merge_dataset_paths,
    merge_datasets,
)

pytestmark = pytest.mark.unit

MERGE_SCRIPT = next(
    (
        folder / "scripts" / "tools" / "merge_hdf5_datasets.py"
        for folder in Path(__file__).resolve().parents
        if (folder / "scripts" / "tools" / "merge_hdf5_datasets.py").is_file()
    ),
    None,
)
"""The merge script of the checkout this test is in (None in a pip install: the wheel has no ``scripts/``)."""
needs_merge_script = pytest.mark.skipif(MERGE_SCRIPT is None, reason="scripts/ is in a checkout, not in the wheel")
ENV_NAME = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"


def write_shard(
    path: Path,
    num_demos: int,
    seed: int,
    env_name: str = ENV_NAME,
    compression: bool = True,
    extra: dict[str, torch.Tensor] | None = None,
) -> Path:
    """A dataset written by the recorder's file handler: demos of random lengths, float, uint8 and nested values
    (and the ``extra`` values, per step, in every demo)."""
    generator = torch.Generator().manual_seed(seed)
    handler = HDF5DatasetFileHandler()
    handler.create(str(path), env_name=env_name)
    handler.add_env_args({"sim_args": {"dt": 0.025, "num_envs": 1}, f"shard_{seed}": seed})
    for index in range(num_demos):
        length = 3 + index
        episode = EpisodeData()
        episode.data = {
            "actions": torch.rand(length, 7, generator=generator),
            "obs": {"cam": torch.randint(0, 255, (length, 4, 4, 3), generator=generator, dtype=torch.uint8)},
            "initial_state": {"rigid_object": {"cube": {"root_pose": torch.rand(1, 7, generator=generator)}}},
        }
        for key, value in (extra or {}).items():
            episode.data["obs"][key] = value.expand(length, *value.shape).clone()
        episode.seed = seed * 100 + index
        episode.success = index % 2 == 0
        handler.write_episode(episode, dataset_compression=compression)
    handler.close()
    return path


@pytest.fixture
def shards(tmp_path: Path) -> list[Path]:
    """Three shards with 2, 0 and 3 demos."""
    folder = tmp_path / "shards"
    return [write_shard(folder / f"shard_{i}.hdf5", num, seed=i + 1) for i, num in enumerate((2, 0, 3))]


def assert_same_tree(a: h5py.Group, b: h5py.Group) -> None:
    """Same members, dtypes, shapes, values, compression and attributes, recursively."""
    assert dict(a.attrs) == dict(b.attrs)
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], h5py.Group):
            assert_same_tree(a[key], b[key])
        else:
            assert (a[key].dtype, a[key].shape, a[key].compression) == (b[key].dtype, b[key].shape, b[key].compression)
            np.testing.assert_array_equal(a[key][()], b[key][()])


def test_merge_renumbers_demos_and_keeps_values_attributes_and_env_args(shards: list[Path], tmp_path: Path) -> None:
    result = merge_datasets([str(path) for path in shards], str(tmp_path / "merged"))

    assert result.output_file == str(tmp_path / "merged.hdf5")
    assert result.num_demos == 5 and result.demos_per_input == {str(path): n for path, n in zip(shards, (2, 0, 3))}
    assert result.input_bytes == sum(path.stat().st_size for path in shards) and result.throughput_mb_s > 0
    sources = [(shards[0], "demo_0"), (shards[0], "demo_1"), (shards[2], "demo_0"), (shards[2], "demo_1")]
    sources.append((shards[2], "demo_2"))
    with h5py.File(result.output_file, "r") as merged:
        assert sorted(merged["data"]) == [f"demo_{i}" for i in range(5)]
        for index, (path, name) in enumerate(sources):
            with h5py.File(path, "r") as shard:
                assert_same_tree(shard["data"][name], merged["data"][f"demo_{index}"])
        total = sum(int(demo.attrs["num_samples"]) for demo in merged["data"].values())
        assert merged["data"].attrs["total"] == total == result.total_samples == 3 + 4 + 3 + 4 + 5
        with h5py.File(shards[0], "r") as shard:
            assert dict(merged.attrs) == dict(shard.attrs)
        env_args = json.loads(merged["data"].attrs["env_args"])
    assert env_args["env_name"] == ENV_NAME and env_args["type"] == 2
    assert env_args["sim_args"] == {"dt": 0.025, "num_envs": 1}
    assert {env_args["shard_1"], env_args["shard_2"], env_args["shard_3"]} == {1, 2, 3}

    handler = HDF5DatasetFileHandler()
    handler.open(result.output_file)
    assert handler.get_num_episodes() == 5 and handler.get_env_name() == ENV_NAME
    episode = handler.load_episode("demo_2", "cpu")
    handler.close()
    assert episode.data["actions"].shape == (3, 7) and episode.data["obs"]["cam"].dtype == torch.uint8
    assert int(episode.seed) == 300 and bool(episode.success)


def test_uncompressed_inputs_stay_uncompressed(tmp_path: Path) -> None:
    shard = write_shard(tmp_path / "plain.hdf5", 1, seed=1, compression=False)
    result = merge_datasets([str(shard)], str(tmp_path / "merged.hdf5"))
    with h5py.File(result.output_file, "r") as merged:
        assert merged["data/demo_0/actions"].compression is None


def test_max_demos_takes_the_first_demos_in_input_order(shards: list[Path], tmp_path: Path) -> None:
    result = merge_datasets([str(path) for path in shards], str(tmp_path / "merged.hdf5"), max_demos=3)
    assert result.num_demos == 3
    with h5py.File(result.output_file, "r") as merged, h5py.File(shards[2], "r") as last:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert_same_tree(last["data/demo_0"], merged["data/demo_2"])


def partial_of(output: Path) -> Path:
    return output.with_name(output.name + ".partial")


def overwrite_bytes(path: Path, offset: int, size: int) -> None:
    with open(path, "r+b") as stream:
        stream.seek(offset)
        stream.write(bytes(range(7, 256))[:size].ljust(size, b"\xff"))


def corrupt_demo(path: Path, demo: str, how: str) -> None:
    """Damage one demo of a dataset file the way a failing disk or a careless tool would."""
    if how == "dangling link":
        with h5py.File(path, "r+") as file:
            file[f"data/{demo}/obs/lost"] = h5py.SoftLink("/nowhere")
        return
    with h5py.File(path, "r") as file:
        if how == "object header":
            offset, size = h5py.h5o.get_info(file[f"data/{demo}/actions"].id).addr, 16
        else:  # a compressed chunk of camera images
            chunk = file[f"data/{demo}/obs/cam"].id.get_chunk_info(0)
            offset, size = chunk.byte_offset, chunk.size
    overwrite_bytes(path, offset, size)


def file_bytes(paths: list[Path]) -> list[bytes]:
    return [path.read_bytes() for path in paths]


@pytest.mark.parametrize(
    "how, shard_index, demo",
    [("dangling link", 2, "demo_1"), ("object header", 0, "demo_0"), ("compressed chunk", 2, "demo_2")],
)
def test_a_corrupt_demo_is_an_error_naming_file_and_demo_or_is_skipped_when_asked(
    shards: list[Path], tmp_path: Path, how: str, shard_index: int, demo: str
) -> None:
    corrupt_demo(shards[shard_index], demo, how)
    before = file_bytes(shards)
    output = tmp_path / "merged.hdf5"

    with pytest.raises(DemoReadError, match=rf"Demo '{demo}' of '{shards[shard_index]}' cannot be read: \S+") as error:
        merge_datasets([str(path) for path in shards], str(output))
    assert (error.value.input_file, error.value.demo) == (str(shards[shard_index]), demo)
    assert not output.exists() and not partial_of(output).exists()  # no partial output, complete-looking or not
    assert file_bytes(shards) == before

    result = merge_datasets([str(path) for path in shards], str(output), skip_bad_demos=True)
    assert [(bad.input_file, bad.demo) for bad in result.skipped] == [(str(shards[shard_index]), demo)]
    assert result.num_demos == 4 and sum(result.demos_per_input.values()) == 4
    sources = [
        (path, name) for path in shards for name in read_names(path) if (path, name) != (shards[shard_index], demo)
    ]
    with h5py.File(output, "r") as merged:
        assert sorted(merged["data"]) == [f"demo_{i}" for i in range(4)]
        for index, (path, name) in enumerate(sources):
            with h5py.File(path, "r") as shard:
                assert_same_tree(shard["data"][name], merged["data"][f"demo_{index}"])
    assert not partial_of(output).exists()


def test_a_corrupt_chunk_behind_other_filters_than_gzip_alone_is_found_too(tmp_path: Path) -> None:
    """Chunks with other filters (here shuffle, then gzip) are read through HDF5's filters (gzip alone is inflated
    with zlib on a thread pool)."""
    shard = tmp_path / "shuffled.hdf5"
    with h5py.File(shard, "w") as file:
        data = file.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": ENV_NAME})
        for index in range(3):
            demo = data.create_group(f"demo_{index}")
            demo.attrs["num_samples"] = 40
            demo.create_dataset("actions", data=np.random.rand(40, 7), chunks=(10, 7), compression="gzip", shuffle=True)
        chunk = data["demo_1/actions"].id.get_chunk_info(2)
    overwrite_bytes(shard, chunk.byte_offset, chunk.size)
    output = tmp_path / "merged.hdf5"
    with pytest.raises(DemoReadError, match=rf"Demo 'demo_1' of '{shard}' cannot be read: OSError"):
        merge_datasets([str(shard)], str(output))
    result = merge_datasets([str(shard)], str(output), skip_bad_demos=True)
    assert result.num_demos == 2 and [bad.demo for bad in result.skipped] == ["demo_1"]


def read_names(path: Path) -> list[str]:
    with h5py.File(path, "r") as file:
        return sorted(file["data"], key=lambda name: int(name.split("_")[1]))


def test_an_interrupted_merge_leaves_no_output_and_a_rerun_completes(shards: list[Path], tmp_path: Path) -> None:
    output = tmp_path / "merged.hdf5"
    merged_counts: list[int] = []

    def interrupt_after_two(num_merged: int) -> None:
        merged_counts.append(num_merged)
        if num_merged == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        merge_datasets([str(path) for path in shards], str(output), progress_callback=interrupt_after_two)
    assert merged_counts == [1, 2]
    assert not output.exists() and not partial_of(output).exists()
    result = merge_datasets([str(path) for path in shards], str(output))
    assert result.num_demos == 5 and not partial_of(output).exists()


def test_a_killed_merge_leaves_only_a_partial_file_of_complete_demos_and_a_rerun_replaces_it(
    shards: list[Path], tmp_path: Path
) -> None:
    """SIGKILL (os._exit, no cleanup) right after the third demo is published: no output file, and the ``.partial``
    file opens with the three complete demos; the next merge replaces it."""
    output = tmp_path / "merged.hdf5"
    code = (
        "import os, sys\n"
        "from isaaclab_mimic.datagen.dataset_merge import merge_datasets\n"
        "merge_datasets(sys.argv[2:], sys.argv[1], progress_callback=lambda n: n == 3 and os._exit(9))\n"
    )
    process = subprocess.run([sys.executable, "-c", code, str(output), *map(str, shards)], capture_output=True)
    assert process.returncode == 9, process.stderr.decode()
    assert not output.exists()
    with h5py.File(partial_of(output), "r") as partial:
        assert sorted(partial["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert partial["data/demo_2/actions"].shape == (3, 7)
        assert partial["data"].attrs["total"] == 3 + 4 + 3

    result = merge_datasets([str(path) for path in shards], str(output))
    assert result.num_demos == 5 and not partial_of(output).exists()
    with h5py.File(output, "r") as merged:
        assert len(merged["data"]) == 5


def test_a_merge_does_not_touch_the_partial_file_of_a_merge_in_progress(shards: list[Path], tmp_path: Path) -> None:
    output = tmp_path / "merged.hdf5"
    with h5py.File(partial_of(output), "w") as partial:
        partial.create_group("data/demo_0")
    content = partial_of(output).read_bytes()
    holder = subprocess.Popen(  # another merge, writing its partial file (it holds HDF5's write lock)
        [sys.executable, "-c", "import sys, h5py\nf = h5py.File(sys.argv[1], 'r+')\nprint('open', flush=True)\n"
         "sys.stdin.read()", str(partial_of(output))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "open\n"
        with pytest.raises(FileExistsError, match="Another merge is writing"):
            merge_datasets([str(path) for path in shards], str(output))
    finally:
        holder.communicate(input="", timeout=60)
    assert partial_of(output).read_bytes() == content and not output.exists()


def test_inputs_whose_demos_hold_different_datasets_are_refused_naming_files_and_keys(tmp_path: Path) -> None:
    plain = write_shard(tmp_path / "plain.hdf5", 2, seed=1)
    with_gripper = write_shard(tmp_path / "gripper.hdf5", 2, seed=2, extra={"gripper": torch.zeros(2)})
    with_double = write_shard(tmp_path / "double.hdf5", 1, seed=3, extra={"gripper": torch.zeros(2).double()})
    output = tmp_path / "merged.hdf5"

    with pytest.raises(DatasetLayoutError) as error:
        merge_datasets([str(plain), str(with_gripper)], str(output), skip_bad_demos=True)
    assert f"Cannot merge '{with_gripper}' with '{plain}'" in str(error.value)
    assert f"only in '{with_gripper}': obs/gripper" in str(error.value)
    with pytest.raises(DatasetLayoutError, match=r"obs/gripper \(float32 \(2,\) vs float64 \(2,\)\)"):
        merge_datasets([str(with_gripper), str(with_double)], str(output))

    with h5py.File(plain, "r+") as file:  # a later demo of one input that differs from the first
        file["data/demo_1/obs/cam"].attrs["kept"] = 1
        file.create_dataset("data/demo_1/obs/extra", data=np.zeros((4, 3)))
    with pytest.raises(DatasetLayoutError, match=rf"demo 'demo_1' and demo 'demo_0' .*only in '{plain}': obs/extra"):
        merge_datasets([str(plain)], str(output), skip_bad_demos=True)
    assert not output.exists() and not partial_of(output).exists()


def test_an_output_inside_an_input_folder_or_equal_to_an_input_is_refused(shards: list[Path], tmp_path: Path) -> None:
    folder = shards[0].parent
    before = sorted(folder.iterdir())
    with pytest.raises(ValueError, match=f"'{folder / 'merged.hdf5'}' is inside the input folder '{folder}'"):
        merge_dataset_paths([str(folder)], str(folder / "merged.hdf5"))
    with pytest.raises(ValueError, match=f"The output '{shards[0]}' is also one of the inputs"):
        merge_datasets([str(path) for path in shards], str(shards[0]), overwrite=True)
    assert sorted(folder.iterdir()) == before


def test_merge_refuses_bad_inputs_before_writing(shards: list[Path], tmp_path: Path) -> None:
    other = write_shard(tmp_path / "other.hdf5", 1, seed=9, env_name="Another-Task-v0")
    not_hdf5 = tmp_path / "notes.hdf5"
    not_hdf5.write_text("not a dataset")
    output = tmp_path / "merged.hdf5"
    with pytest.raises(ValueError, match="different environments"):
        merge_datasets([str(shards[0]), str(other)], str(output))
    with pytest.raises(ValueError, match="notes.hdf5"):
        merge_datasets([str(shards[0]), str(not_hdf5)], str(output))
    with pytest.raises(ValueError, match="named twice"):
        merge_datasets([str(shards[0]), str(shards[0])], str(output))
    with pytest.raises(ValueError, match="No dataset files"):
        merge_datasets([], str(output))
    assert not output.exists()
    output.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        merge_datasets([str(shards[0])], str(output))
    assert output.read_bytes() == b"keep"


def test_find_dataset_files_orders_shards_naturally_and_splits_failed_ones_of_folders(tmp_path: Path) -> None:
    for name in ("shard_10.hdf5", "shard_2.hdf5", "shard_2_failed.hdf5", "shard_10_failed.hdf5", "notes.txt"):
        (tmp_path / name).touch()
    (tmp_path / "out.hdf5.partial").touch()
    datasets, failed = find_dataset_files([str(tmp_path / "shard_10_failed.hdf5"), str(tmp_path)])
    assert [Path(path).name for path in datasets] == ["shard_10_failed.hdf5", "shard_2.hdf5", "shard_10.hdf5"]
    assert [Path(path).name for path in failed] == ["shard_2_failed.hdf5", "shard_10_failed.hdf5"]
    with pytest.raises(FileNotFoundError, match="missing"):
        find_dataset_files([str(tmp_path / "missing")])


def run_merge_script(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    cwd = cwd or MERGE_SCRIPT.parents[2]
    return subprocess.run([sys.executable, str(MERGE_SCRIPT), *args], capture_output=True, text=True, cwd=cwd)


@needs_merge_script
def test_merge_script_keeps_upstreams_flags_and_merges_a_shard_folder_and_its_failed_shards(tmp_path: Path) -> None:
    folder = tmp_path / "run_shards"
    write_shard(folder / "shard_0.hdf5", 2, seed=1)
    write_shard(folder / "shard_1.hdf5", 1, seed=2)
    write_shard(folder / "shard_1_failed.hdf5", 2, seed=3)
    output = tmp_path / "run.hdf5"
    output.write_bytes(b"an older merge")  # replaced, as upstream's script does

    result = run_merge_script("--input_files", str(folder), "--output_file", str(output))
    assert result.returncode == 0, result.stderr
    assert f"Merged 3 demos from 2 file(s) into {output}" in result.stdout
    assert f"Merged 2 demos from 1 file(s) into {tmp_path / 'run_failed.hdf5'}" in result.stdout
    assert result.stdout.endswith(f"Merged dataset saved to {output}\n")
    with h5py.File(output, "r") as merged, h5py.File(tmp_path / "run_failed.hdf5", "r") as failed:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert sorted(failed["data"]) == ["demo_0", "demo_1"]
    assert sorted(path.name for path in folder.iterdir()) == ["shard_0.hdf5", "shard_1.hdf5", "shard_1_failed.hdf5"]

    # upstream's defaults: files only, merged into ./merged_dataset.hdf5
    files = [str(folder / "shard_1.hdf5"), str(folder / "shard_1_failed.hdf5")]
    result = run_merge_script("--input_files", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "merged_dataset.hdf5", "r") as merged:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]


@needs_merge_script
def test_merge_script_reports_a_corrupt_demo_and_skips_it_when_asked(tmp_path: Path) -> None:
    folder = tmp_path / "run_shards"
    write_shard(folder / "shard_0.hdf5", 3, seed=1)
    write_shard(folder / "shard_1.hdf5", 2, seed=2)
    corrupt_demo(folder / "shard_0.hdf5", "demo_1", "object header")
    output = tmp_path / "run.hdf5"

    failed = run_merge_script("--input_files", str(folder), "--output_file", str(output))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert f"Error: Demo 'demo_1' of '{folder / 'shard_0.hdf5'}' cannot be read: KeyError" in failed.stderr
    assert not output.exists() and not partial_of(output).exists()

    inside = run_merge_script("--input_files", str(folder), "--output_file", str(folder / "merged.hdf5"))
    assert inside.returncode == 1 and "is inside the input folder" in inside.stderr
    assert not (folder / "merged.hdf5").exists()

    skipped = run_merge_script("--input_files", str(folder), "--output_file", str(output), "--skip_bad_demos")
    assert skipped.returncode == 0, skipped.stderr
    assert f"Skipped: Demo 'demo_1' of '{folder / 'shard_0.hdf5'}' cannot be read: KeyError" in skipped.stdout
    assert "Merged 4 demos from 2 file(s)" in skipped.stdout and "1 bad demo(s) skipped" in skipped.stdout
    with h5py.File(output, "r") as merged:
        assert sorted(merged["data"]) == [f"demo_{i}" for i in range(4)]

    missing = run_merge_script("--input_files", str(tmp_path / "nowhere"), "--output_file", str(output))
    assert missing.returncode == 1 and "No such dataset file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr and os.path.exists(output)
