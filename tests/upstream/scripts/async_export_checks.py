# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Asynchronous-export behaviours of the patched Isaac Lab 3.0.0 recorder, on a test double of an env.

Run with the upstream environment's python, the patched packages first on ``PYTHONPATH``. Only Isaac Lab 3.0.0's
API and what the patch adds are used: the ``RecorderManagerBaseCfg`` fields ``async_write``, ``early_cpu_offload``,
``async_queue_size`` and ``async_queue_max_bytes``, ``RecorderManager.writer_statistics`` and ``flush()``, and
``EpisodeWriteError`` from ``isaaclab.utils.datasets``. The env double is built like the one of Isaac Lab's own
``test_recorder_manager.py`` (``num_envs``, ``device``, ``sim.is_playing()``, ``cfg``, ``termination_manager``).

Usage: ``python async_export_checks.py CHECK [CHECK ...] --output_dir DIR``. Each check prints one JSON line
(``{"check": ..., "ok": ..., "error": ..., "seconds": ..., ...}``); the exit code is 0 if every check passed.

Checks:
    ``record``: record the reference job once in the mode given by ``--mode`` (``sync`` also runs unpatched).
    ``equivalence``: the reference job in sync, async and async+offload modes writes identical files.
    ``backpressure``: with a one-episode queue, many large episodes are all written, intact and in order; the
        caller blocked, and the queue never held more than its bound.
    ``write_errors``: a failing ``write_episode`` surfaces as ``EpisodeWriteError`` at the next export, at
        ``flush()`` and at ``close()``, naming how many episodes were not written.
    ``close_drain``: ``close()`` returns only when every queued episode is in the file.
    ``exit_drain``: exports asynchronously into ``DIR/exit_drain`` and ends the program without ``close()``; writes
        what it exported to ``DIR/exit_drain_expected.json``.
    ``exit_drain_written``: run after ``exit_drain``, in a new process: every episode it exported is in the files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import traceback
from types import SimpleNamespace

import h5py
import torch

from isaaclab.managers import DatasetExportMode, RecorderManager, RecorderManagerBaseCfg, RecorderTerm, RecorderTermCfg
from isaaclab.utils import configclass
from isaaclab.utils.datasets import HDF5DatasetFileHandler

NUM_ENVS = 4
EPISODE_STEPS = (3, 5, 7, 4)
"""Steps per episode of each env: resets are staggered."""

MODES = {
    "sync": {},
    "async": {"async_write": True},
    "async_offload": {"async_write": True, "early_cpu_offload": True},
}
"""The recorder settings of each export mode (``sync`` sets nothing, so it also runs on the unpatched recorder)."""


class DummySimulation:
    """The simulation double (the manager base asks whether the timeline plays)."""

    def is_playing(self) -> bool:
        return True


class DummyEnv:
    """An env double with buffers that the recorder terms read and the loop overwrites in place every step."""

    def __init__(self, payload_shape: tuple[int, ...] = (6,), seed: int = 0) -> None:
        self.num_envs = NUM_ENVS
        self.device = "cpu"
        self.sim = DummySimulation()
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=0.01, render_interval=2),
            decimation=2,
            scene=SimpleNamespace(num_envs=NUM_ENVS),
        )
        self.termination_manager = SimpleNamespace(active_terms=[])
        self.generator = torch.Generator().manual_seed(seed)
        self.state = torch.zeros(NUM_ENVS, 8)
        self.image = torch.zeros(NUM_ENVS, 12, 12, 3, dtype=torch.uint8)
        self.payload = torch.zeros(NUM_ENVS, *payload_shape)
        self.actions = torch.zeros(NUM_ENVS, 3)

    def step_buffers(self) -> None:
        """New values in the same tensors (as a simulator does), so an episode that kept a view would change."""
        self.state.copy_(torch.randn(self.state.shape, generator=self.generator))
        self.image.copy_(torch.randint(0, 256, self.image.shape, generator=self.generator, dtype=torch.uint8))
        self.payload.copy_(torch.rand(self.payload.shape, generator=self.generator))
        self.actions.copy_(torch.rand(self.actions.shape, generator=self.generator) * 2 - 1)


class ObservationTerm(RecorderTerm):
    """Records the env's buffers before each step (a nested dict) and its actions."""

    def record_pre_step(self):
        return "obs", {"state": self._env.state, "camera": {"image": self._env.image}, "payload": self._env.payload}

    def record_post_step(self):
        return "actions", self._env.actions


class InitialStateTerm(RecorderTerm):
    """Records the state of the envs that were reset."""

    def record_post_reset(self, env_ids):
        return "initial_state", self._env.state[env_ids]


@configclass
class ObservationTermCfg(RecorderTermCfg):
    class_type: type = ObservationTerm


@configclass
class InitialStateTermCfg(RecorderTermCfg):
    class_type: type = InitialStateTerm


@configclass
class DummyRecorderCfg(RecorderManagerBaseCfg):
    observations = ObservationTermCfg()
    initial_state = InitialStateTermCfg()


class FailingFileHandler(HDF5DatasetFileHandler):
    """An HDF5 handler whose ``write_episode`` fails (like a full disk) for every episode."""

    def write_episode(self, *args, **kwargs):
        raise OSError(28, "No space left on device (simulated)")


def make_recorder(env: DummyEnv, output_dir: str, filename: str, mode: str, **settings) -> RecorderManager:
    """A recorder manager on the env double, writing ``output_dir/filename`` in the given export mode."""
    cfg = DummyRecorderCfg(
        dataset_export_dir_path=output_dir,
        dataset_filename=filename,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES,
        **MODES[mode],
        **settings,
    )
    return RecorderManager(cfg, env)


def run_episodes(recorder: RecorderManager, env: DummyEnv, num_steps: int, custom_ids_env: int | None = 3) -> list:
    """Step the env double and export episodes as each env's episode ends (staggered).

    Even envs succeed, odd ones fail; exports that include ``custom_ids_env`` name their demos with custom ids.

    Returns:
        Per exported episode, in export order: ``(env_id, payload checksum)``.
    """
    all_ids = list(range(NUM_ENVS))
    env.step_buffers()
    recorder.record_post_reset(all_ids)
    lengths = [0] * NUM_ENVS
    custom_exports = 0
    exported = []
    payloads: dict[int, list[torch.Tensor]] = {env_id: [] for env_id in all_ids}
    for _ in range(num_steps):
        env.step_buffers()
        recorder.record_pre_step()
        recorder.record_post_step()
        for env_id in all_ids:
            payloads[env_id].append(env.payload[env_id].clone())
        lengths = [length + 1 for length in lengths]
        done = [env_id for env_id in all_ids if lengths[env_id] >= EPISODE_STEPS[env_id]]
        if not done:
            continue
        recorder.record_pre_reset(done, force_export_or_skip=False)
        recorder.set_success_to_episodes(done, torch.tensor([env_id % 2 == 0 for env_id in done]))
        demo_ids = None
        if custom_ids_env in done:
            # unique, and far above the running count of sequential names
            demo_ids = [10_000 * (env_id + 1) + custom_exports for env_id in done]
            custom_exports += 1
        recorder.export_episodes(done, demo_ids=demo_ids)
        for env_id in done:
            exported.append((env_id, checksum(torch.stack(payloads[env_id]))))
            payloads[env_id] = []
            lengths[env_id] = 0
        env.step_buffers()
        recorder.record_post_reset(done)
    return exported


def checksum(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's bytes (as stored in HDF5: C order, same dtype)."""
    return hashlib.sha256(tensor.contiguous().numpy().tobytes()).hexdigest()


def file_checksums(path: str, key: str = "obs/payload") -> dict[str, str]:
    """SHA-256 of one dataset of every demo in a file, by demo name."""
    with h5py.File(path, "r") as file:
        return {name: hashlib.sha256(demo[key][()].tobytes()).hexdigest() for name, demo in file["data"].items()}


def demo_order(path: str) -> list[str]:
    """The demo names of a file in numeric order."""
    with h5py.File(path, "r") as file:
        return sorted(file["data"].keys(), key=lambda name: int(name.split("_")[1]))


def verify_written(output_dir: str, exported: list) -> None:
    """Every exported episode is in its file, intact, under the name its export order gives it.

    Succeeded episodes (even envs) go to ``dataset.hdf5`` and failed ones (odd envs) to ``dataset_failed.hdf5``;
    each file names its demos in export order.
    """
    for filename, succeeded in (("dataset.hdf5", True), ("dataset_failed.hdf5", False)):
        path = os.path.join(output_dir, filename)
        expected = [value for env_id, value in exported if (env_id % 2 == 0) == succeeded]
        written = file_checksums(path)
        actual = [written[name] for name in demo_order(path)]
        expect(len(actual) == len(expected), f"{filename}: {len(expected)} episodes exported, {len(actual)} written")
        expect(actual == expected, f"{filename}: the written episodes differ from the exported ones (or their order)")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


"""
Checks.
"""


def check_record(args) -> dict:
    """Record the reference job once in ``args.mode``."""
    env = DummyEnv()
    recorder = make_recorder(env, os.path.join(args.output_dir, args.mode), "dataset", args.mode)
    exported = run_episodes(recorder, env, num_steps=60)
    recorder.close()
    return {"mode": args.mode, "episodes": len(exported)}


def check_equivalence(args) -> dict:
    """The reference job in every mode: identical files (names, values, attributes, storage)."""
    from hdf5_compare import compare_files

    episodes = {}
    for mode in MODES:
        env = DummyEnv()
        recorder = make_recorder(env, os.path.join(args.output_dir, mode), "dataset", mode)
        episodes[mode] = len(run_episodes(recorder, env, num_steps=60))
        recorder.close()
    differences = []
    for mode in ("async", "async_offload"):
        for filename in ("dataset.hdf5", "dataset_failed.hdf5"):
            reference = os.path.join(args.output_dir, "sync", filename)
            other = os.path.join(args.output_dir, mode, filename)
            differences += [f"{mode}/{filename}: {line}" for line in compare_files(reference, other, storage=True)]
    expect(not differences, "files differ from the sync ones:\n" + "\n".join(differences[:20]))
    expect(len(set(episodes.values())) == 1, f"episode counts differ: {episodes}")
    return {"episodes": episodes["sync"]}


def check_backpressure(args) -> dict:
    """One-episode queue, large episodes, many of them: nothing lost, contents intact, the caller blocked."""
    output_dir = os.path.join(args.output_dir, "backpressure")
    env = DummyEnv(payload_shape=(192, 192))
    recorder = make_recorder(env, output_dir, "dataset", "async", async_queue_size=1, async_queue_max_bytes=1024)
    exported = run_episodes(recorder, env, num_steps=60, custom_ids_env=None)
    recorder.flush()
    stats = recorder.writer_statistics
    recorder.close()
    verify_written(output_dir, exported)
    expect(stats.blocked_seconds > 0, f"the caller never blocked on the full queue: {stats}")
    expect(stats.peak_queue_depth <= 1, f"the queue held more than its bound of 1: {stats}")
    expect(stats.episodes_written == len(exported) and stats.episodes_failed == 0, f"writer statistics: {stats}")
    return {
        "episodes": len(exported),
        "blocked_seconds": round(stats.blocked_seconds, 3),
        "peak_queue_depth": stats.peak_queue_depth,
    }


def check_write_errors(args) -> dict:
    """Failing writes are reported at the next export, flush() or close(), once each, chained, with their count."""
    from isaaclab.utils.datasets import EpisodeWriteError

    output_dir = os.path.join(args.output_dir, "write_errors")
    results = {}
    for where in ("export", "flush", "close"):
        env = DummyEnv()
        recorder = make_recorder(
            env, os.path.join(output_dir, where), "dataset", "async", dataset_file_handler_class_type=FailingFileHandler
        )
        messages, reported = [], 0

        def call(operation):
            nonlocal reported
            try:
                operation()
            except EpisodeWriteError as error:
                expect(isinstance(error.__cause__, OSError), f"at {where}: not chained to the write's OSError")
                count = re.search(r"(\d+) episode\(s\) not written", str(error))
                expect(count is not None, f"at {where}: the error does not count the episodes: {error}")
                reported += int(count.group(1))
                messages.append(str(error))

        env.step_buffers()
        recorder.record_post_reset(None)
        env.step_buffers()
        recorder.record_pre_step()
        recorder.record_post_step()
        recorder.set_success_to_episodes(None, torch.ones(NUM_ENVS, dtype=torch.bool))
        # three episodes to a file whose writes fail: the export may report failures that happened already
        call(lambda: recorder.export_episodes([0, 1, 2]))
        if where == "export":
            deadline = time.monotonic() + 30
            while recorder.writer_statistics.episodes_failed < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            call(lambda: recorder.export_episodes([3]))
        elif where == "flush":
            call(recorder.flush)
        call(recorder.close)
        failed = recorder.writer_statistics.episodes_failed
        expect(messages, f"no EpisodeWriteError at {where} after failed writes")
        expect(reported == failed >= 3, f"at {where}: {reported} episodes reported, {failed} failed")
        results[where] = messages
    return {"messages": results}


def check_close_drain(args) -> dict:
    """close() writes every queued episode before it returns."""
    output_dir = os.path.join(args.output_dir, "close_drain")
    env = DummyEnv(payload_shape=(192, 192))
    recorder = make_recorder(env, output_dir, "dataset", "async", async_queue_size=1000, async_queue_max_bytes=2**34)
    exported = run_episodes(recorder, env, num_steps=40, custom_ids_env=None)
    queued_at_close = recorder.writer_statistics.episodes_queued
    recorder.close()
    verify_written(output_dir, exported)
    expect(queued_at_close > 0, "the writer had already finished before close(): the drain was not exercised")
    return {"episodes": len(exported), "queued_at_close": queued_at_close}


_KEEP_ALIVE = []


def check_exit_drain(args) -> dict:
    """Export asynchronously and return without close(); the program's end must drain the queue."""
    output_dir = os.path.join(args.output_dir, "exit_drain")
    env = DummyEnv(payload_shape=(192, 192))
    recorder = make_recorder(env, output_dir, "dataset", "async", async_queue_size=1000, async_queue_max_bytes=2**34)
    exported = run_episodes(recorder, env, num_steps=40, custom_ids_env=None)
    queued = recorder.writer_statistics.episodes_queued
    with open(os.path.join(args.output_dir, "exit_drain_expected.json"), "w") as stream:
        json.dump({"exported": exported, "queued_at_exit": queued}, stream)
    _KEEP_ALIVE.append(recorder)  # still referenced when the interpreter shuts down
    return {"episodes": len(exported), "queued_at_exit": queued}


def check_exit_drain_written(args) -> dict:
    """After ``exit_drain``'s program ended: the files hold every episode it exported."""
    with open(os.path.join(args.output_dir, "exit_drain_expected.json")) as stream:
        expected = json.load(stream)
    expect(expected["queued_at_exit"] > 0, "the writer had already finished at exit: the drain was not exercised")
    exported = [tuple(item) for item in expected["exported"]]
    verify_written(os.path.join(args.output_dir, "exit_drain"), exported)
    return {"episodes": len(exported), "queued_at_exit": expected["queued_at_exit"]}


CHECKS = {
    "record": check_record,
    "equivalence": check_equivalence,
    "backpressure": check_backpressure,
    "write_errors": check_write_errors,
    "close_drain": check_close_drain,
    "exit_drain": check_exit_drain,
    "exit_drain_written": check_exit_drain_written,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checks", nargs="+", choices=sorted(CHECKS))
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--mode", choices=sorted(MODES), default="sync", help="the mode of the 'record' check")
    args = parser.parse_args()
    all_ok = True
    for name in args.checks:
        start = time.perf_counter()
        try:
            result = {"check": name, "ok": True, **CHECKS[name](args)}
        except Exception as error:  # report every check, then fail
            result = {"check": name, "ok": False, "error": f"{type(error).__name__}: {error}"}
            result["traceback"] = traceback.format_exc()
            all_ok = False
        result["seconds"] = round(time.perf_counter() - start, 2)
        print(json.dumps(result), flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
