# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Connecting the driver of a distributed generation to Ray: a cluster at an address, or a local instance.

Without an address, the driver joins the cluster that ``RAY_ADDRESS`` names (as in a Ray job), or else starts a
local instance of its own, even when ``ray start`` runs on the machine (``auto`` joins that one).

Joining a cluster is bounded and says what went wrong. Before Ray is asked to connect, the driver waits (up to the
timeout, in Python, so that signals are handled at once) for something to accept connections at the address: an
address where nothing listens fails with a message that names it, instead of Ray's own retries, which can last
minutes. Ray then tries once per call, repeated until the timeout. A cluster that wants a token this process did
not send (``ray start --head`` turns token authentication on when a token exists, for example ``~/.ray/auth_token``)
fails at once with what to set.

``ray.init`` installs its own SIGTERM handler (``sys.exit``) in the main thread; the program's handler is put back
once it returns, and a SIGTERM that arrives during ``ray.init`` is handed to the program's handler.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator

import ray
from ray.exceptions import AuthenticationError

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "connect_ray"]

DEFAULT_CONNECT_TIMEOUT = 60.0
"""Seconds to wait for a Ray cluster to accept the driver, by default."""

RETRY_SECONDS = 0.5
"""Pause between two connection tries."""

_ONE_TRY_PER_INIT = ("RAY_gcs_server_port_wait_time_s", "1")
"""Ray's setting (an environment variable read by ``ray.init``) for how many times one ``ray.init`` call tries to
reach the cluster (about one second each); the driver repeats the calls itself, up to its own timeout."""

_AUTH_FAILURES = ("InvalidAuthToken", "Unauthenticated", "authentication token")
"""Text of Ray's errors for a token that is missing or refused."""


def connect_ray(
    address: str | None, timeout: float = DEFAULT_CONNECT_TIMEOUT, log: Callable[[str], None] = print
) -> None:
    """Connect this process to Ray: join the cluster at ``address``, or start a local instance if it is None.

    Args:
        address: A Ray cluster address (``host:port`` of the head node, ``auto`` for the one ``ray start`` runs on
            this machine, or a ``ray://`` client address). None: the ``RAY_ADDRESS`` environment variable's, or else
            a new local instance.
        timeout: Seconds to wait for the cluster to accept the connection.
        log: Where the line announcing the connection goes.

    Raises:
        ValueError: If ``timeout`` is not positive.
        ConnectionError: If nothing accepts connections at the address, the cluster refuses this process's
            authentication (the message says what to set), or the cluster does not accept it within ``timeout``.
    """
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        while not _init(address="local", include_dashboard=False, log_to_driver=False):
            pass
        return
    if not timeout > 0:
        raise ValueError(f"The Ray connection timeout must be positive, got {timeout}.")
    log(f"Joining the Ray cluster at {address} (waiting up to {timeout:g} s).")
    deadline = time.monotonic() + timeout
    endpoint = _endpoint(address)
    if endpoint is not None:
        _wait_for_listener(address, endpoint, deadline, timeout)
    last_error = "no answer"
    with _default_env(*_ONE_TRY_PER_INIT):
        while True:
            try:
                if _init(address=address, log_to_driver=False):
                    return
            except (AuthenticationError, ConnectionError) as error:
                last_error = _error_text(error)
                if any(marker in last_error for marker in _AUTH_FAILURES):
                    raise ConnectionError(_auth_message(address)) from None
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"The Ray cluster at {address} did not accept this process within {timeout:g} s"
                    f" ({_first_line(last_error)}). Check that it is a Ray head node's address"
                    " (`ray status` on the head prints it), or raise the timeout."
                )
            time.sleep(RETRY_SECONDS)


def _init(**kwargs) -> bool:
    """``ray.init(**kwargs)``, keeping the program's SIGTERM handler.

    Returns:
        True if connected; False if a SIGTERM interrupted ``ray.init`` and the program's handler let the program go
        on (the caller tries again).
    """
    if threading.current_thread() is not threading.main_thread():
        ray.init(**kwargs)
        return True
    handler = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(**kwargs)
        return True
    except SystemExit as exit_request:
        if exit_request.code != signal.SIGTERM or handler in (signal.SIG_DFL, None):
            raise
        ray.shutdown()
        signal.signal(signal.SIGTERM, handler)
        if callable(handler):
            handler(signal.SIGTERM, None)  # the program's handler decides (to raise, or to go on)
        return False
    finally:
        signal.signal(signal.SIGTERM, handler)


def _endpoint(address: str) -> tuple[str, int] | None:
    """The host and port of an address (None for ``auto`` or an address that does not name a port)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _wait_for_listener(address: str, endpoint: tuple[str, int], deadline: float, timeout: float) -> None:
    """Wait until something accepts TCP connections at the endpoint.

    Raises:
        ConnectionError: If nothing did before the deadline.
    """
    while True:
        remaining = deadline - time.monotonic()
        try:
            with socket.create_connection(endpoint, timeout=min(1.0, max(0.1, remaining))):
                return
        except OSError as error:
            reason = error.strerror or str(error) or type(error).__name__
        if time.monotonic() >= deadline:
            raise ConnectionError(
                f"Nothing answers at the Ray address {address} ({reason}; waited {timeout:g} s). Start the head node"
                " there (`ray start --head --port=<port>`), check the address and that this machine can reach it,"
                " or leave the address out to start a local Ray instance."
            )
        time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))


def _auth_message(address: str) -> str:
    """What to do when the cluster at ``address`` refused this process's authentication."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        problem = "refused the token this process sent (or found none)"
    else:
        problem = "uses token authentication, and this process sent no token (RAY_AUTH_MODE is not 'token')"
    return (
        f"The Ray cluster at {address} {problem}. Run with RAY_AUTH_MODE=token and the cluster's token, which Ray"
        " reads from RAY_AUTH_TOKEN, from the file named by RAY_AUTH_TOKEN_PATH, or from ~/.ray/auth_token"
        " (`ray get-auth-token` on the head node prints it). `ray start --head` turns token authentication on when"
        " it finds a token there; RAY_AUTH_MODE=disabled when starting the cluster turns it off."
    )


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "no details"


def _error_text(error: BaseException) -> str:
    """An exception's message and those of its causes, joined."""
    texts = []
    while error is not None and len(texts) < 8:
        texts.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


@contextlib.contextmanager
def _default_env(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the duration of the block, unless the user set it."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)
