"""A cached, annotated source dataset for the embedded task, built on first use (record, then annotate)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from .annotate import annotate_demos
from .record import record_demos

DEFAULT_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The embedded cube-stacking task."""

DEFAULT_CACHE_DIR = os.path.join("datasets", "source")
"""Where built source datasets are kept, relative to the working directory."""

DEFAULT_NUM_SOURCE_DEMOS = 10
"""How many scripted-expert demos a built source dataset holds."""

SOURCE_SEED = 0
"""Environment seed of the recorded source demos (fixed, so the cache is the same on every machine)."""


def source_dataset_path(
    task: str, num_demos: int = DEFAULT_NUM_SOURCE_DEMOS, cache_dir: str = DEFAULT_CACHE_DIR
) -> str:
    """The path of the cached annotated source dataset of a task."""
    return os.path.join(cache_dir, f"{task}-{num_demos}demos-seed{SOURCE_SEED}-annotated.hdf5")


def ensure_source_dataset(
    task: str,
    device: str = "cpu",
    enable_cameras: bool = False,
    num_demos: int = DEFAULT_NUM_SOURCE_DEMOS,
    cache_dir: str = DEFAULT_CACHE_DIR,
    log: Callable[[str], None] = print,
) -> str:
    """Return the cached annotated source dataset of a task, recording and annotating it first if missing.

    The dataset is built in a temporary folder next to the cache and moved into place only when complete, so an
    interrupted build never leaves a partial cache entry.

    Args:
        task: A Mimic task id of the embedded task.
        device: Torch device used to build it.
        enable_cameras: Allow camera tasks (their images are recorded too).
        num_demos: Number of scripted-expert demos to record.
        cache_dir: The cache folder.
        log: Where progress lines go.

    Returns:
        The path of the annotated source dataset.
    """
    path = source_dataset_path(task, num_demos, cache_dir)
    if os.path.isfile(path):
        log(f"[INFO] Using the cached source dataset '{path}'.")
        return path
    log(f"[INFO] No --input_file given: building a source dataset of {num_demos} scripted demos for '{task}' (once).")
    os.makedirs(cache_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as build_dir:
        recorded = os.path.join(build_dir, "recorded.hdf5")
        annotated = os.path.join(build_dir, "annotated.hdf5")
        record_demos(
            task=task,
            num_demos=num_demos,
            dataset_file=recorded,
            seed=SOURCE_SEED,
            device=device,
            enable_cameras=enable_cameras,
            log=log,
        )
        annotate_demos(
            task=task, input_file=recorded, output_file=annotated, device=device, enable_cameras=enable_cameras, log=log
        )
        os.replace(annotated, path)
    log(f"[INFO] Source dataset cached at '{path}'.")
    return path
