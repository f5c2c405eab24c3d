# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The comparison helper of the upstream check finds every kind of difference it claims to (and none in copies)."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from hdf5_compare import compare_files


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "a.hdf5"
    with h5py.File(path, "w") as file:
        file.attrs["format_version"] = 1
        data = file.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": "x", "type": 2})
        demo = data.create_group("demo_0")
        demo.attrs["num_samples"] = 3
        demo.attrs["success"] = True
        demo.create_dataset("actions", data=np.arange(6, dtype=np.float32).reshape(3, 2), compression="gzip")
        demo.create_dataset("obs/pos", data=np.full((3, 3), np.nan, dtype=np.float32))
    return path


def changed_copy(reference, tmp_path, change) -> str:
    path = tmp_path / "b.hdf5"
    shutil.copy(reference, path)
    with h5py.File(path, "r+") as file:
        change(file)
    return str(path)


def test_a_copy_is_identical_and_json_key_order_does_not_matter(reference, tmp_path):
    other = changed_copy(
        reference, tmp_path, lambda f: f["data"].attrs.modify("env_args", '{"type": 2, "env_name": "x"}')
    )
    assert compare_files(str(reference), other, storage=True) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda f: f["data/demo_0/actions"].__setitem__((0, 0), 9.0), "/data/demo_0/actions: values differ"),
        (lambda f: f["data/demo_0"].attrs.modify("success", False), "/data/demo_0 attribute 'success'"),
        (lambda f: f["data/demo_0"].attrs.create("seed", 1), "/data/demo_0 attribute 'seed': only in the second"),
        (lambda f: f["data"].attrs.modify("env_args", json.dumps({"env_name": "y", "type": 2})), "'env_args'"),
        (lambda f: f.copy("data/demo_0", "data/demo_1"), "/data/demo_1: only in the second file"),
        (lambda f: f["data/demo_0/obs"].__delitem__("pos"), "/data/demo_0/obs/pos: only in the first file"),
    ],
)
def test_differences_are_found(reference, tmp_path, change, expected):
    differences = compare_files(str(reference), changed_copy(reference, tmp_path, change))
    assert any(expected in line for line in differences), differences


def test_storage_is_compared_only_when_asked(reference, tmp_path):
    def recompress(file):
        values = file["data/demo_0/actions"][()]
        del file["data/demo_0/actions"]
        file["data/demo_0"].create_dataset("actions", data=values)

    other = changed_copy(reference, tmp_path, recompress)
    assert compare_files(str(reference), other) == []
    assert any("stored with" in line for line in compare_files(str(reference), other, storage=True))
