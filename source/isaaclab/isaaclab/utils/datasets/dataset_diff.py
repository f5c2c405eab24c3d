"""Compare two HDF5 dataset files: every group, dataset (dtype, shape, values) and attribute."""

from __future__ import annotations

import h5py
import numpy as np


def diff_hdf5_files(path_a: str, path_b: str) -> list[str]:
    """List the differences between two HDF5 files; an empty list means identical content.

    Compares the tree of groups and datasets, each dataset's dtype, shape, values and compression, and every
    attribute of every object (the root included).

    Args:
        path_a: The first file.
        path_b: The second file.

    Returns:
        One line per difference, naming the object.
    """
    with h5py.File(path_a, "r") as file_a, h5py.File(path_b, "r") as file_b:
        return _diff_objects(file_a, file_b, "/")


def _diff_objects(a: h5py.Group | h5py.Dataset, b: h5py.Group | h5py.Dataset, path: str) -> list[str]:
    diffs = _diff_attrs(a, b, path)
    if isinstance(a, h5py.Dataset) != isinstance(b, h5py.Dataset):
        return diffs + [f"{path}: a group in one file, a dataset in the other"]
    if isinstance(a, h5py.Dataset):
        return diffs + _diff_datasets(a, b, path)
    keys_a, keys_b = set(a.keys()), set(b.keys())
    diffs += [f"{path}{key}: only in the first file" for key in sorted(keys_a - keys_b)]
    diffs += [f"{path}{key}: only in the second file" for key in sorted(keys_b - keys_a)]
    for key in sorted(keys_a & keys_b):
        child_path = f"{path}{key}"
        diffs += _diff_objects(a[key], b[key], child_path + ("/" if isinstance(a[key], h5py.Group) else ""))
    return diffs


def _diff_datasets(a: h5py.Dataset, b: h5py.Dataset, path: str) -> list[str]:
    if a.dtype != b.dtype or a.shape != b.shape:
        return [f"{path}: dtype/shape {a.dtype}{a.shape} != {b.dtype}{b.shape}"]
    diffs = []
    if a.compression != b.compression:
        diffs.append(f"{path}: compression {a.compression} != {b.compression}")
    if not np.array_equal(a[()], b[()], equal_nan=a.dtype.kind in "fc"):
        diffs.append(f"{path}: values differ")
    return diffs


def _diff_attrs(a: h5py.HLObject, b: h5py.HLObject, path: str) -> list[str]:
    diffs = []
    for key in sorted(set(a.attrs) | set(b.attrs)):
        if key not in a.attrs or key not in b.attrs:
            diffs.append(f"{path}@{key}: only in the {'second' if key not in a.attrs else 'first'} file")
        elif not np.array_equal(np.asarray(a.attrs[key]), np.asarray(b.attrs[key])):
            diffs.append(f"{path}@{key}: {a.attrs[key]!r} != {b.attrs[key]!r}")
    return diffs
