# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Merge dataset files (for example the shards of a distributed generation) into one dataset, demo by demo.

The demos of the inputs are copied, in input order and by demo number within an input, to ``demo_0 .. demo_<n-1>``
of the output. Each demo is copied with HDF5's object copy (datasets keep their dtype, shape, chunks, compression
and attributes; compressed chunks are not decompressed), so only one chunk at a time is in memory.

Every demo is checked before it is copied: each of its objects is opened and each of its compressed chunks is
decompressed once (a corrupt object, link or chunk fails here, with an error that names the file and the demo), and
its datasets (names, dtypes, per-sample shapes) must be those of the first demo merged; inputs whose demos hold other
datasets are refused before anything is written. With ``skip_bad_demos``, unreadable demos are left out and reported
instead. gzip chunks are inflated with ``zlib`` (which checks their checksum) on a thread pool, one thread per
core; chunks of other filters are read through HDF5; data stored without a filter has nothing to check.

The output is written under a temporary name (``<output>.partial``) and renamed to the output only when complete,
so an output file is never a partial merge. Inside that file a demo is assembled in an anonymous group and linked
under ``/data`` (with ``total`` updated) when complete, and the file is flushed after each demo: a merge that is
killed leaves a ``.partial`` file that opens and holds only complete demos. A failed or interrupted merge removes
its ``.partial`` file (the inputs are left as they are); the next merge replaces one that a killed merge left.

``/data`` gets ``total`` (the sum of the demos' ``num_samples``) and ``env_args``: the inputs' ``env_args``
merged, where a key keeps the value of the first input that has it. The other attributes of ``/`` and ``/data``
are those of the first input.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import math
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import h5py
import numpy as np

__all__ = [
    "DatasetLayoutError",
    "DemoReadError",
    "FAILED_SUFFIX",
    "MergeResult",
    "PARTIAL_SUFFIX",
    "find_dataset_files",
    "merge_dataset_paths",
    "merge_datasets",
    "read_demo_names",
]

FAILED_SUFFIX = "_failed"
"""Suffix of the file name (before ``.hdf5``) of the failed-demo dataset that the recorder writes next to a
dataset when it exports failed episodes to a separate file."""

PARTIAL_SUFFIX = ".partial"
"""Suffix of the file a merge writes; it is renamed to the output once every demo is in it."""

READ_BLOCK_BYTES = 64 * 1024**2
"""At most this many bytes of a dataset are read at a time when a demo is checked through HDF5."""

CHUNKS_IN_FLIGHT_PER_THREAD = 4
"""gzip chunks read ahead per checking thread (bounds the memory of the check)."""

_H5PY_READ_ERRORS = (KeyError, OSError, RuntimeError, TypeError, ValueError, zlib.error)
"""What h5py (and zlib) raise for an object or chunk of a file that cannot be read."""

_Layout = dict[str, tuple[np.dtype, tuple[int, ...]]]
"""The datasets of a demo: path inside the demo -> (dtype, shape of one sample)."""


class DemoReadError(ValueError):
    """A demo of an input file cannot be read: it is corrupt, or not a demo as the recorder writes them."""

    def __init__(self, input_file: str, demo: str, reason: str) -> None:
        super().__init__(f"Demo '{demo}' of '{input_file}' cannot be read: {reason}")
        self.input_file = input_file
        """The file that holds the demo."""
        self.demo = demo
        """The demo's name in that file."""
        self.reason = reason
        """What is wrong with it."""


class DatasetLayoutError(ValueError):
    """Two inputs hold demos with different datasets (names, dtypes or per-sample shapes)."""


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
    skipped: list[DemoReadError] = dataclasses.field(default_factory=list)
    """The demos left out because they cannot be read (only with ``skip_bad_demos``), each with its reason."""

    @property
    def throughput_mb_s(self) -> float:
        """Input megabytes (10^6 bytes) merged per second."""
        return self.input_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


def find_dataset_files(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """The dataset files named by ``paths``, and the failed-demo datasets of the folders among them.

    A folder stands for the ``.hdf5`` files directly in it, in natural order (``shard_2`` before ``shard_10``); those
    whose name ends in ``_failed.hdf5`` are failed-demo datasets. A file named directly is a dataset, whatever its
    name.

    Args:
        paths: Files and folders.

    Returns:
        The datasets and the failed-demo datasets, each in order.

    Raises:
        FileNotFoundError: If a path does not exist.
    """
    files: list[str] = []
    failed: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            names = sorted((name for name in os.listdir(path) if name.endswith(".hdf5")), key=_natural_key)
            for name in names:
                (failed if name.endswith(f"{FAILED_SUFFIX}.hdf5") else files).append(os.path.join(path, name))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such dataset file or folder: '{path}'.")
    return files, failed


def read_demo_names(path: str) -> list[str]:
    """The demo names of a dataset file, by demo number.

    Raises:
        ValueError: If the file cannot be read as a dataset (not HDF5, or no ``/data`` group).
    """
    return _read_header(path)[1]


def merge_dataset_paths(
    paths: Sequence[str], output_file: str, skip_bad_demos: bool = False, overwrite: bool = False
) -> list[MergeResult]:
    """Merge the datasets named by files and folders (see :func:`find_dataset_files`) into ``output_file``, and the
    failed-demo datasets of the folders into ``<output_file>_failed.hdf5``.

    Args:
        paths: Dataset files and folders of dataset files, in order.
        output_file: The dataset to create; ``.hdf5`` is appended if missing.
        skip_bad_demos: Leave out demos that cannot be read (each result lists them) instead of failing.
        overwrite: Replace existing outputs (once the merge is complete) instead of refusing them.

    Returns:
        The merge into ``output_file``, then the merge of the failed-demo datasets if there are any.

    Raises:
        FileNotFoundError: If a path does not exist.
        FileExistsError: If an output exists and ``overwrite`` is not set.
        ValueError: If no dataset is named, an output is inside an input folder, or :func:`merge_datasets` refuses
            the inputs.
    """
    output_file = _hdf5_name(output_file)
    for path in paths:
        if os.path.isdir(path) and _is_inside(output_file, path):
            raise ValueError(
                f"The output '{output_file}' is inside the input folder '{path}': a later merge of that folder would"
                " read it as one of its datasets. Write it outside the folder."
            )
    datasets, failed = find_dataset_files(paths)
    if not datasets:
        raise ValueError(f"No dataset file in {', '.join(repr(path) for path in paths) or 'the inputs'}.")
    jobs = [(datasets, output_file)]
    if failed:
        jobs.append((failed, f"{output_file[: -len('.hdf5')]}{FAILED_SUFFIX}.hdf5"))
    if not overwrite:
        for _, output in jobs:
            _refuse_existing(output)
    return [
        merge_datasets(inputs, output, skip_bad_demos=skip_bad_demos, overwrite=overwrite) for inputs, output in jobs
    ]


def merge_datasets(
    input_files: Sequence[str],
    output_file: str,
    max_demos: int | None = None,
    progress_callback: Callable[[int], None] | None = None,
    skip_bad_demos: bool = False,
    overwrite: bool = False,
) -> MergeResult:
    """Merge dataset files into a new dataset file, one demo at a time.

    Every input is read once up front (attributes, demo names and the datasets of its first demo) to check that all
    are datasets of the same environment with the same datasets before anything is written.

    Args:
        input_files: The datasets to merge, in order.
        output_file: The dataset to create; ``.hdf5`` is appended if missing.
        max_demos: Merge at most this many demos (the first ones, in input order).
        progress_callback: Called with the number of demos merged so far after each demo.
        skip_bad_demos: Leave out demos that cannot be read (listed in the result) instead of failing.
        overwrite: Replace an existing output (once the merge is complete) instead of refusing it.

    Returns:
        What was written.

    Raises:
        ValueError: If there is no input, an input is named twice, is the output, or is not a readable dataset, or
            the inputs are datasets of different environments.
        DatasetLayoutError: If demos of the inputs hold different datasets.
        DemoReadError: If a demo cannot be read (and ``skip_bad_demos`` is not set). Nothing is written then.
        FileExistsError: If the output file exists and ``overwrite`` is not set, or another merge is writing it.
    """
    if not input_files:
        raise ValueError("No dataset files to merge.")
    if len(set(map(os.path.realpath, input_files))) < len(input_files):
        raise ValueError(f"A dataset file is named twice in {list(input_files)}.")
    output_file = _hdf5_name(output_file)
    if any(os.path.realpath(output_file) == os.path.realpath(path) for path in input_files):
        raise ValueError(f"The output '{output_file}' is also one of the inputs.")
    if not overwrite:
        _refuse_existing(output_file)
    headers = [_read_header(path) for path in input_files]
    env_args = _merge_env_args(input_files, [header[0] for header in headers])
    reference = _check_layouts(input_files, [header[1] for header in headers], skip_bad_demos)

    start = time.perf_counter()
    if os.path.dirname(output_file):
        os.makedirs(os.path.dirname(output_file), exist_ok=True)
    partial = _claim_partial(output_file)
    output = h5py.File(partial, "w-")  # fails if another merge took the name meanwhile: then it is not ours to remove
    demos_per_input: dict[str, int] = {}
    skipped: list[DemoReadError] = []
    num_demos = 0
    try:
        with output, _ValueChecker() as checker:
            data = _create_data_group(output, input_files[0], env_args)
            for path, (_, names) in zip(input_files, headers):
                demos_per_input[path] = 0
                with _open_input(path) as source:
                    for name in names:
                        if max_demos is not None and num_demos >= max_demos:
                            break
                        try:
                            _merge_demo(path, source["data"], name, reference, checker, data, f"demo_{num_demos}")
                        except DemoReadError as error:
                            if not skip_bad_demos:
                                raise
                            skipped.append(error)
                            continue
                        num_demos += 1
                        demos_per_input[path] += 1
                        if progress_callback is not None:
                            progress_callback(num_demos)
            total_samples = int(data.attrs["total"])
        _publish(partial, output_file, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    return MergeResult(
        output_file=output_file,
        num_demos=num_demos,
        total_samples=total_samples,
        input_bytes=sum(os.path.getsize(path) for path in input_files),
        seconds=time.perf_counter() - start,
        demos_per_input=demos_per_input,
        skipped=skipped,
    )


"""
Inputs.
"""


@contextlib.contextmanager
def _open_input(path: str) -> Iterator[h5py.File]:
    """An input file, open for reading; ValueError naming it if it cannot be opened."""
    try:
        file = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"Cannot read '{path}' as a dataset: {err}") from None
    with file:
        yield file


def _read_header(path: str) -> tuple[dict[str, Any], list[str]]:
    """The ``env_args`` and the demo names (by demo number) of a dataset file."""
    with _open_input(path) as file:
        if "data" not in file:
            raise ValueError(f"'{path}' is not a dataset file: it has no '/data' group.")
        data = file["data"]
        try:
            env_args = json.loads(data.attrs.get("env_args", "{}"))
        except (OSError, ValueError) as err:
            raise ValueError(f"The 'env_args' of '{path}' cannot be read: {err}") from None
        names = sorted(data.keys(), key=_natural_key)
    return env_args, names


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


def _check_layouts(
    paths: Sequence[str], names: Sequence[list[str]], skip_bad_demos: bool
) -> tuple[str, str, _Layout] | None:
    """The layout of the first readable demo of the inputs, as ``(file, demo, layout)`` (None if there is no demo),
    after checking that the first readable demo of every input has it (unreadable demos before it raise, or are
    passed over with ``skip_bad_demos``: the merge reports them)."""
    reference = None
    for path, demo_names in zip(paths, names):
        with _open_input(path) as source:
            for name in demo_names:
                try:
                    layout = _demo_layout(path, source["data"], name)
                except DemoReadError:
                    if not skip_bad_demos:
                        raise
                    continue
                if reference is None:
                    reference = (path, name, layout)
                _check_layout(reference, path, name, layout)
                break
    return reference


def _demo_layout(path: str, data: h5py.Group, name: str, checker: _ValueChecker | None = None) -> _Layout:
    """The datasets of a demo (each of their values checked, if a checker is given); DemoReadError if any part
    cannot be read."""
    layout: _Layout = {}

    def walk(group: h5py.Group, prefix: str) -> None:
        for key in group:
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                raise DemoReadError(path, name, f"'{prefix}{key}' is a link, not a dataset or a group")
            item = group[key]
            if isinstance(item, h5py.Group):
                walk(item, f"{prefix}{key}/")
                continue
            layout[f"{prefix}{key}"] = (item.dtype, item.shape[1:] if item.shape else ())
            if checker is not None:
                checker.check(item)

    try:
        demo = data[name]
        if not isinstance(demo, h5py.Group):
            raise DemoReadError(path, name, "it is not a group")
        walk(demo, "")
    except DemoReadError:
        raise
    except _H5PY_READ_ERRORS as err:
        raise DemoReadError(path, name, _describe(err)) from err
    return layout


class _ValueChecker:
    """Finds corrupt chunks: inflates the gzip chunks of a dataset on a thread pool (``zlib`` checks each chunk's
    checksum), and reads a dataset with other filters through HDF5. Unfiltered data has nothing to check."""

    def __init__(self) -> None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self._window = CHUNKS_IN_FLIGHT_PER_THREAD * threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="isaaclab-merge-check")

    def __enter__(self) -> _ValueChecker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(cancel_futures=True)

    def check(self, dataset: h5py.Dataset) -> None:
        """Check every stored value of a dataset.

        Raises:
            OSError, ValueError, zlib.error: If a chunk cannot be read or decompressed.
        """
        if dataset.chunks is None or dataset.size == 0:
            return
        filters = dataset.id.get_create_plist()
        if filters.get_nfilters() == 0:
            return
        if filters.get_nfilters() == 1 and filters.get_filter(0)[0] == h5py.h5z.FILTER_DEFLATE:
            self._inflate_chunks(dataset)
        else:
            self._read(dataset)

    def _inflate_chunks(self, dataset: h5py.Dataset) -> None:
        chunks: list[Any] = []
        dataset.id.chunk_iter(chunks.append)
        pending: collections.deque[Future] = collections.deque()
        for chunk in chunks:
            filter_mask, raw = dataset.id.read_direct_chunk(chunk.chunk_offset)
            if filter_mask & 1:  # stored without deflate
                continue
            pending.append(self._pool.submit(zlib.decompress, raw))
            if len(pending) >= self._window:
                pending.popleft().result()
        for future in pending:
            future.result()

    def _read(self, dataset: h5py.Dataset) -> None:
        """Read every value through HDF5's filters, a block of samples at a time."""
        sample_bytes = dataset.dtype.itemsize * math.prod(dataset.shape[1:])
        step = max(1, READ_BLOCK_BYTES // max(1, sample_bytes))
        for begin in range(0, dataset.shape[0], step):
            dataset[begin : begin + step]


def _check_layout(reference: tuple[str, str, _Layout], path: str, name: str, layout: _Layout) -> None:
    """Raise DatasetLayoutError if a demo's datasets differ from the reference demo's, naming the differences."""
    reference_path, reference_name, expected = reference
    if layout == expected:
        return
    differences = []
    missing = sorted(expected.keys() - layout.keys())
    extra = sorted(layout.keys() - expected.keys())
    changed = sorted(key for key in expected.keys() & layout.keys() if expected[key] != layout[key])
    if missing:
        differences.append(f"only in '{reference_path}': {_listing(missing)}")
    if extra:
        differences.append(f"only in '{path}': {_listing(extra)}")
    if changed:
        specs = [f"{key} ({_spec(expected[key])} vs {_spec(layout[key])})" for key in changed]
        differences.append(f"different dtype or sample shape: {_listing(specs)}")
    raise DatasetLayoutError(
        f"Cannot merge '{path}' with '{reference_path}': demo '{name}' and demo '{reference_name}' hold different"
        f" datasets ({'; '.join(differences)}). Merge only datasets recorded with the same configuration."
    )


"""
Output.
"""


def _claim_partial(output_file: str) -> str:
    """The temporary name to write ``output_file`` under, free: one that a killed merge left is removed.

    Raises:
        FileExistsError: If another merge is writing it (it holds HDF5's lock on the file).
    """
    partial = output_file + PARTIAL_SUFFIX
    if os.path.exists(partial):
        try:
            with h5py.File(partial, "r+"):  # takes the write lock without truncating: fails while a merge holds it
                pass
        except BlockingIOError:
            raise FileExistsError(
                f"Another merge is writing '{output_file}' (through '{partial}'); wait for it or choose another output."
            ) from None
        except OSError:
            pass  # not an HDF5 file that opens: a leftover all the same
        os.remove(partial)
    return partial


def _publish(partial: str, output_file: str, overwrite: bool) -> None:
    """Rename the complete merge to its output name."""
    if not overwrite:
        _refuse_existing(output_file)
    os.replace(partial, output_file)


def _refuse_existing(output_file: str) -> None:
    if os.path.exists(output_file):
        raise FileExistsError(f"The merged dataset '{output_file}' already exists; remove it or choose another path.")


def _create_data_group(output: h5py.File, first_input: str, env_args: dict[str, Any]) -> h5py.Group:
    """Create ``/data`` with the attributes of the first input's ``/`` and ``/data``, ``total = 0`` and the merged
    ``env_args``; flush."""
    data = output.create_group("data")
    with _open_input(first_input) as source:
        _copy_attrs(source, output)
        _copy_attrs(source["data"], data)
    data.attrs["total"] = 0
    data.attrs["env_args"] = json.dumps(env_args)
    output.flush()
    return data


def _merge_demo(
    path: str,
    source: h5py.Group,
    name: str,
    reference: tuple[str, str, _Layout] | None,
    checker: _ValueChecker,
    data: h5py.Group,
    new_name: str,
) -> None:
    """Check a demo of an input (every value readable, the reference's datasets), then copy it under ``data`` as
    ``new_name``: assembled unlinked, then published with ``total``, flushed."""
    layout = _demo_layout(path, source, name, checker)
    if reference is not None:
        _check_layout(reference, path, name, layout)
    staged = data.file.create_group(None)
    try:
        demo = source[name]
        for key in demo:
            demo.copy(demo[key], staged, name=key)
        _copy_attrs(demo, staged)
        num_samples = int(demo.attrs.get("num_samples", 0))
    except _H5PY_READ_ERRORS as err:
        raise DemoReadError(path, name, _describe(err)) from err
    data[new_name] = staged
    data.attrs["total"] = int(data.attrs["total"]) + num_samples
    data.file.flush()


def _copy_attrs(source: h5py.HLObject, target: h5py.HLObject) -> None:
    """Copy every attribute, with its HDF5 type."""
    for key in source.attrs:
        target.attrs.create(key, source.attrs[key], dtype=source.attrs.get_id(key).dtype)


"""
Helpers.
"""


def _hdf5_name(path: str) -> str:
    return path if path.endswith(".hdf5") else f"{path}.hdf5"


def _is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` is in ``folder`` or below it (links resolved)."""
    folder = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), folder]) == folder


def _describe(error: BaseException) -> str:
    kind = type(error).__qualname__
    if type(error).__module__ != "builtins":
        kind = f"{type(error).__module__}.{kind}"
    text = str(error).strip("'\"") or "no details"
    return f"{kind}: {text}"


def _spec(spec: tuple[np.dtype, tuple[int, ...]]) -> str:
    return f"{spec[0]} {spec[1]}"


def _listing(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers in a name by value (``demo_2`` before ``demo_10``)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", os.path.basename(name))]
