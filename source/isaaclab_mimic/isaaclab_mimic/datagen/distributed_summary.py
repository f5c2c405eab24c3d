# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""What a distributed Mimic generation did: each worker's status, the run's summary and its report, the error."""

from __future__ import annotations

import dataclasses

from prettytable import PrettyTable

from .dataset_merge import MergeResult
from .generation_worker import WorkerJob, WorkerProgress

__all__ = ["DistributedGenerationError", "DistributedGenerationSummary", "WorkerStatus"]


@dataclasses.dataclass
class WorkerStatus:
    """The driver's view of one worker."""

    job: WorkerJob
    """What the worker generates."""
    progress: WorkerProgress | None = None
    """Its last reported counters (None until it first reports)."""
    state: str = "starting"
    """``starting``, ``running``, ``done``, ``stopped`` (by the driver before its share was complete), ``died``
    (its process ended), ``failed`` (it raised) or ``killed`` (by the driver, on a second Ctrl-C)."""
    kept_demos: int | None = None
    """Demos found in the shard of a worker that died or was killed."""
    error: str | None = None
    """Why it died or failed."""
    rescheduled_as: int | None = None
    """Index of the worker that took over its remaining share."""

    @property
    def demos(self) -> int:
        """Its demos: those in its shard if it died, else those it reported."""
        if self.kept_demos is not None:
            return self.kept_demos
        return self.progress.demos if self.progress is not None else 0

    @property
    def rate(self) -> float:
        """Its demos per second of generation."""
        seconds = self.progress.seconds if self.progress is not None else 0.0
        return self.demos / seconds if seconds > 0 else 0.0


@dataclasses.dataclass
class DistributedGenerationSummary:
    """What a distributed generation produced."""

    output_file: str
    """The merged dataset."""
    failed_output_file: str | None
    """The merged dataset of failed demos, if the export mode writes one."""
    requested: int
    """``generation_num_trials`` of the run."""
    num_demos: int
    """Demos in the merged dataset."""
    num_attempts: int
    """Finished attempts reported by all workers."""
    num_failures: int
    """Failed attempts reported by all workers."""
    workers: list[WorkerStatus]
    """Every worker of the run, rescheduled ones included."""
    generation_seconds: float
    """Time from starting the workers to the last one ending."""
    merge: MergeResult | None
    """The merge of the shards (None if no worker wrote a shard, the output is then an empty dataset, or if the merge
    failed)."""
    outcome: str
    """``complete``, ``failure cap`` (``max_num_failures`` reached), ``interrupted`` (Ctrl-C), ``failed`` (a worker
    failed) or ``merge failed`` (the shards could not be merged: they are kept)."""
    message: str
    """What happened, in a sentence or more (faults, reschedules)."""

    @property
    def demos_per_second(self) -> float:
        """Demos in the merged dataset per second of generation."""
        return self.num_demos / self.generation_seconds if self.generation_seconds > 0 else 0.0

    def report(self) -> str:
        """The summary as text: a headline, a table with one row per worker, the merge, and what happened."""
        table = PrettyTable()
        table.field_names = ["worker", "host", "pid", "seed", "share", "demos", "attempts", "failed", "setup s"]
        table.field_names += ["generation s", "demos/s", "state"]
        table.align = "r"
        table.align["host"] = table.align["state"] = "l"
        for status in self.workers:
            progress, job = status.progress, status.job
            host, pid, attempts, failures, setup, generation = ["-"] * 6
            if progress is not None:
                host, pid, attempts, failures = progress.host, progress.pid, progress.attempts, progress.failures
                setup, generation = f"{progress.setup_seconds:.1f}", f"{progress.seconds:.1f}"
            row = [job.index, host, pid, job.seed, job.num_trials, status.demos, attempts, failures, setup, generation]
            table.add_row([*row, f"{status.rate:.2f}", status.state])
        lines = [
            f"Distributed generation ({self.outcome}): {self.num_demos}/{self.requested} demos from"
            f" {len(self.workers)} worker(s) in {self.generation_seconds:.1f} s ({self.demos_per_second:.2f}"
            f" demos/s), {self.num_attempts} attempts, {self.num_failures} failed.",
            table.get_string(),
        ]
        if self.merge is not None:
            lines.append(
                f"Merged {self.merge.num_demos} demos ({self.merge.input_bytes / 1e6:.1f} MB) into {self.output_file}"
                f" in {self.merge.seconds:.2f} s ({self.merge.throughput_mb_s:.1f} MB/s)."
            )
        elif self.outcome != "merge failed":
            lines.append(f"No worker wrote a shard: {self.output_file} is an empty dataset.")
        if self.failed_output_file is not None:
            lines.append(f"Failed demos: {self.failed_output_file}.")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)


class DistributedGenerationError(RuntimeError):
    """A worker failed and the run stopped; the demos written so far were merged (see ``summary``)."""

    def __init__(self, message: str, summary: DistributedGenerationSummary) -> None:
        super().__init__(message)
        self.summary = summary
