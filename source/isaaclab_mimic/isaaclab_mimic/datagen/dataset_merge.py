# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Merge dataset files (for example the shards of a distributed generation) into one dataset, demo by demo.

The demos of the inputs are copied, in input order and by demo number within an input, to ``demo_0 .. demo_<n-1>``
of the output. Each demo is copied with HDF5's object copy (datasets keep their dtype, shape, chunks, compression
and attributes; compressed chunks are not decompressed), so only one chunk at a time is in memory. The output is
written the way the recorder writes: a demo is assembled in an anonymous group, linked under ``/data`` (with
``total`` updated) only when complete, and the file is flushed after each demo, so a merge that is interrupted or
killed leaves a valid file with every demo merged so far.

``/data`` gets ``total`` (the sum of the demos' ``num_samples``) and ``env_args``: the inputs' ``env_args``
merged, where a key keeps the value of the first input that has it. The other attributes of ``/`` and ``/data``
are those of the first input.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import h5py

__all__ = ["FAILED_SUFFIX", "MergeResult", "find_dataset_files", "merge_datasets", "read_demo_names"]

FAILED_SUFFIX = "_failed"
"""Suffix of the file name (before ``.hdf5``) of the failed-demo dataset that the recorder writes next to a
dataset when it exports failed episodes to a separate file."""


@dataclasses.dataclass
class MergeResult:
    """What a merge wrote."""

    output_file: str
    """The merged dataset."""
    num_demos: int
    """Demos in the merged dataset."""
    total_samples: int
    """Sum of the demos' ``num_samples``."""
    input_bytes: int
    """Size of the input files."""
    seconds: float
    """Time the merge took."""
    demos_per_input: dict[str, int]
    """Demos taken from each input file."""

    @property
    def throughput_mb_s(self) -> float:
        """Input megabytes (10^6 bytes) merged per second."""
        return self.input_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


def find_dataset_files(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """The dataset files named by ``paths``, split into datasets and failed-demo datasets.

    A folder stands for the ``.hdf5`` files directly in it, in natural order (``shard_2`` before ``shard_10``).
    A file whose name ends in ``_failed.hdf5`` is a failed-demo dataset.

    Args:
        paths: Files and folders.

    Returns:
        The datasets and the failed-demo datasets, each in order.

    Raises:
        FileNotFoundError: If a path does not exist.
    """
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            names = sorted((name for name in os.listdir(path) if name.endswith(".hdf5")), key=_natural_key)
            files += [os.path.join(path, name) for name in names]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such dataset file or folder: '{path}'.")
    failed = [file for file in files if file.endswith(f"{FAILED_SUFFIX}.hdf5")]
    return [file for file in files if file not in failed], failed


def read_demo_names(path: str) -> list[str]:
    """The demo names of a dataset file, by demo number.

    Raises:
        ValueError: If the file cannot be read as a dataset (not HDF5, or no ``/data`` group).
    """
    return _read_header(path)[1]


def merge_datasets(
    input_files: Sequence[str],
    output_file: str,
    max_demos: int | None = None,
    progress_callback: Callable[[int], None] | None = None,
) -> MergeResult:
    """Merge dataset files into a new dataset file, one demo at a time.

    Every input is read once up front (attributes and demo names only) to check that all are datasets of the same
    environment before anything is written.

    Args:
        input_files: The datasets to merge, in order.
        output_file: The dataset to create; ``.hdf5`` is appended if missing; it must not exist.
        max_demos: Merge at most this many demos (the first ones, in input order).
        progress_callback: Called with the number of demos merged so far after each demo.

    Returns:
        What was written.

    Raises:
        ValueError: If there is no input, an input is named twice or is not a readable dataset, or the inputs are
            datasets of different environments.
        FileExistsError: If the output file exists.
    """
    if not input_files:
        raise ValueError("No dataset files to merge.")
    if len(set(map(os.path.abspath, input_files))) < len(input_files):
        raise ValueError(f"A dataset file is named twice in {list(input_files)}.")
    if not output_file.endswith(".hdf5"):
        output_file += ".hdf5"
    if os.path.exists(output_file):
        raise FileExistsError(f"The merged dataset '{output_file}' already exists.")
    headers = [_read_header(path) for path in input_files]
    if max_demos is not None:
        headers = _truncate(headers, max_demos)
    env_args = _merge_env_args(input_files, [header[0] for header in headers])

    start = time.perf_counter()
    demos_per_input: dict[str, int] = {}
    num_demos = 0
    if os.path.dirname(output_file):
        os.makedirs(os.path.dirname(output_file), exist_ok=True)
    with h5py.File(output_file, "w-") as output:
        data = _create_data_group(output, input_files[0], env_args)
        for path, (_, names) in zip(input_files, headers):
            with h5py.File(path, "r") as source:
                for name in names:
                    _copy_demo(source["data"][name], data, f"demo_{num_demos}")
                    num_demos += 1
                    if progress_callback is not None:
                        progress_callback(num_demos)
            demos_per_input[path] = len(names)
        total_samples = int(data.attrs["total"])
    return MergeResult(
        output_file=output_file,
        num_demos=num_demos,
        total_samples=total_samples,
        input_bytes=sum(os.path.getsize(path) for path in input_files),
        seconds=time.perf_counter() - start,
        demos_per_input=demos_per_input,
    )


def _read_header(path: str) -> tuple[dict[str, Any], list[str]]:
    """The ``env_args`` and the demo names (by demo number) of a dataset file."""
    try:
        with h5py.File(path, "r") as file:
            if "data" not in file:
                raise ValueError(f"'{path}' is not a dataset file: it has no '/data' group.")
            data = file["data"]
            env_args = json.loads(data.attrs.get("env_args", "{}"))
            names = sorted(data.keys(), key=_natural_key)
    except OSError as err:
        raise ValueError(f"Cannot read '{path}' as a dataset: {err}") from None
    return env_args, names


def _truncate(headers: list[tuple[dict[str, Any], list[str]]], max_demos: int) -> list[tuple[dict, list[str]]]:
    """The headers with only the first ``max_demos`` demo names, in input order."""
    truncated = []
    for env_args, names in headers:
        truncated.append((env_args, names[: max(0, max_demos)]))
        max_demos -= len(truncated[-1][1])
    return truncated


def _merge_env_args(paths: Sequence[str], env_args: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The inputs' ``env_args`` merged (first value wins); all must name the same environment."""
    env_names = {args["env_name"]: path for path, args in zip(paths, env_args) if args.get("env_name")}
    if len(env_names) > 1:
        listing = ", ".join(f"'{name}' ('{path}')" for name, path in env_names.items())
        raise ValueError(f"Cannot merge datasets of different environments: {listing}.")
    merged: dict[str, Any] = {}
    for args in env_args:
        for key, value in args.items():
            merged.setdefault(key, value)
    return merged


def _create_data_group(output: h5py.File, first_input: str, env_args: dict[str, Any]) -> h5py.Group:
    """Create ``/data`` with the attributes of the first input's ``/`` and ``/data``, ``total = 0`` and the merged
    ``env_args``; flush."""
    data = output.create_group("data")
    with h5py.File(first_input, "r") as source:
        _copy_attrs(source, output)
        _copy_attrs(source["data"], data)
    data.attrs["total"] = 0
    data.attrs["env_args"] = json.dumps(env_args)
    output.flush()
    return data


def _copy_demo(source: h5py.Group, data: h5py.Group, name: str) -> None:
    """Copy a demo group under ``data`` as ``name``: assembled unlinked, then published with ``total``, flushed."""
    staged = data.file.create_group(None)
    for key in source:
        source.copy(source[key], staged, name=key)
    _copy_attrs(source, staged)
    data[name] = staged
    data.attrs["total"] = int(data.attrs["total"]) + int(source.attrs.get("num_samples", 0))
    data.file.flush()


def _copy_attrs(source: h5py.HLObject, target: h5py.HLObject) -> None:
    """Copy every attribute, with its HDF5 type."""
    for key in source.attrs:
        target.attrs.create(key, source.attrs[key], dtype=source.attrs.get_id(key).dtype)


def _natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers in a name by value (``demo_2`` before ``demo_10``)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", os.path.basename(name))]
