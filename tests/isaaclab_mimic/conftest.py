# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Fixtures of the Mimic tests: one local Ray instance for the whole session, and, for the tests that need one, a
Ray cluster started with ``ray start --head`` in a subprocess, with token authentication."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HANG_GUARD_SECONDS = 120
"""How long a fixture waits for a Ray process to start or stop before the test fails (not a speed requirement)."""


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A local Ray instance with 2 CPUs, started once per session (in a few seconds); its address, so that drivers
    in subprocesses can join it with ``--ray_address``."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@dataclasses.dataclass(frozen=True)
class RayHead:
    """A Ray cluster started with ``ray start --head``."""

    address: str
    """Its address (``127.0.0.1:<port>``)."""
    token_file: Path
    """The file holding its authentication token."""

    def env(self, auth_mode: str | None, token_file: Path | None = None) -> dict[str, str]:
        """An environment for a driver process: this one's without ``RAY_*`` variables, with the token file (this
        cluster's, unless another is given) and ``RAY_AUTH_MODE`` if given."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
        env["RAY_AUTH_TOKEN_PATH"] = str(token_file or self.token_file)
        if auth_mode is not None:
            env["RAY_AUTH_MODE"] = auth_mode
        return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    """A 2-CPU Ray cluster started as a user starts one, ``ray start --head`` (Ray 2.60), where a token exists: Ray
    then turns token authentication on. It runs in a subprocess (``--block``), with its own temporary folder (so
    that other Ray programs on the machine do not find it), and is stopped at the end of the session."""
    folder = Path(tempfile.mkdtemp(prefix="rayhead", dir="/tmp"))  # short: Ray's socket paths live under it
    token_file = folder / "auth_token"
    token_file.write_text("isaaclab-mimic-test-token-0123456789abcdef")
    head = RayHead(address=f"127.0.0.1:{free_port()}", token_file=token_file)
    ray = Path(sys.executable).with_name("ray")
    command = [str(ray), "start", "--head", f"--port={head.address.split(':')[1]}", "--num-cpus=2", "--block"]
    command += ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={folder / 'ray'}"]
    log_file = folder / "ray_start.log"
    with open(log_file, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=head.env(auth_mode=None))
    try:
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while "Ray runtime started" not in log_file.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.2)
        assert "Token authentication is enabled" in log_file.read_text()
        yield head
    finally:
        process.terminate()  # --block: stops every process of the cluster
        try:
            process.wait(timeout=HANG_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
