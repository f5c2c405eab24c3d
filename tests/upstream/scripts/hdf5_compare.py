# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Compare two HDF5 dataset files: the same groups and datasets, the same values, the same attributes.

Only h5py and numpy are used, so this runs in any environment. Attribute strings holding JSON (``env_args``) are
compared as parsed JSON. With ``storage=True``, datasets must also be stored alike (compression and its options).

Command line: ``python hdf5_compare.py A B [--storage]``; prints the differences and exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import json
import sys

import h5py
import numpy as np


def compare_files(path_a: str, path_b: str, storage: bool = False) -> list[str]:
    """The differences between two HDF5 files (empty if they hold the same content).

    Args:
        path_a: The first file.
        path_b: The second file.
        storage: Also compare how each dataset is stored (compression filter and options).

    Returns:
        One line per difference, naming the object.
    """
    differences: list[str] = []
    with h5py.File(path_a, "r") as file_a, h5py.File(path_b, "r") as file_b:
        _compare_objects("/", file_a, file_b, storage, differences)
    return differences


def _compare_objects(name: str, a, b, storage: bool, differences: list[str]) -> None:
    _compare_attributes(name, a.attrs, b.attrs, differences)
    if isinstance(a, h5py.Group) != isinstance(b, h5py.Group):
        differences.append(f"{name}: a group in one file, a dataset in the other")
        return
    if isinstance(a, h5py.Dataset):
        _compare_datasets(name, a, b, storage, differences)
        return
    keys_a, keys_b = set(a.keys()), set(b.keys())
    for key in sorted(keys_a - keys_b):
        differences.append(f"{name.rstrip('/')}/{key}: only in the first file")
    for key in sorted(keys_b - keys_a):
        differences.append(f"{name.rstrip('/')}/{key}: only in the second file")
    for key in sorted(keys_a & keys_b):
        _compare_objects(f"{name.rstrip('/')}/{key}", a[key], b[key], storage, differences)


def _compare_datasets(name: str, a: h5py.Dataset, b: h5py.Dataset, storage: bool, differences: list[str]) -> None:
    if a.dtype != b.dtype or a.shape != b.shape:
        differences.append(f"{name}: {a.dtype}{a.shape} against {b.dtype}{b.shape}")
        return
    values_a, values_b = a[()], b[()]
    equal_nan = np.issubdtype(a.dtype, np.inexact)
    if not np.array_equal(values_a, values_b, equal_nan=equal_nan):
        differences.append(f"{name}: values differ")
    if storage and (a.compression, a.compression_opts, a.shuffle) != (b.compression, b.compression_opts, b.shuffle):
        differences.append(
            f"{name}: stored with {(a.compression, a.compression_opts, a.shuffle)} against"
            f" {(b.compression, b.compression_opts, b.shuffle)}"
        )


def _compare_attributes(name: str, attrs_a, attrs_b, differences: list[str]) -> None:
    keys_a, keys_b = set(attrs_a.keys()), set(attrs_b.keys())
    for key in sorted(keys_a ^ keys_b):
        differences.append(f"{name} attribute '{key}': only in the {'first' if key in keys_a else 'second'} file")
    for key in sorted(keys_a & keys_b):
        if not _same_value(attrs_a[key], attrs_b[key]):
            differences.append(f"{name} attribute '{key}': {attrs_a[key]!r} against {attrs_b[key]!r}")


def _same_value(a, b) -> bool:
    if isinstance(a, bytes):
        a = a.decode()
    if isinstance(b, bytes):
        b = b.decode()
    if isinstance(a, str) and isinstance(b, str):
        try:
            return json.loads(a) == json.loads(b)
        except ValueError:
            return a == b
    if type(a) is not type(b):
        return False
    return bool(np.array_equal(a, b))


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare two HDF5 dataset files.")
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--storage", action="store_true", help="also compare compression settings")
    args = parser.parse_args()
    differences = compare_files(args.first, args.second, storage=args.storage)
    for line in differences:
        print(line)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
