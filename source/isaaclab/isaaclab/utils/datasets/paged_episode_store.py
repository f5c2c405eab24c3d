# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Recorded episodes of every environment, kept in pages of per-key pools.

A recorder appends one row per environment and key at every step. Keeping each row as its own tensor costs Python
work per environment and key. Here every key has a pool: one tensor of fixed-size pages (a few steps of the key's
row shape each), and every environment has a table of its pages and a length per key, as a paged KV cache does.
A recorded batch is written with one indexed copy, for any environment ids and any mix of episode lengths; an
exported episode is gathered with one indexed copy per key into owned, contiguous tensors; its pages go back to the
pool on export and on reset.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .episode_data import EpisodeData

PAGE_BYTES = 64 * 1024
"""The size a page aims for: a page holds as many steps of a key as fit, between 1 and :data:`MAX_PAGE_STEPS`."""

MAX_PAGE_STEPS = 32
"""The most steps a page holds (for keys with small rows). Page sizes are powers of two."""

WORD_COPY_BYTES = 256
"""Rows of at least this many bytes are copied as 32- or 16-bit words rather than element by element."""

MIN_BLOCK_BYTES = 256 * 1024
"""The smallest block of a pool: a block holds a page for every environment, and at least this many bytes."""

HUGE_PAGE_BYTES = 2 * 1024 * 1024
"""The size of a transparent huge page on Linux; CPU blocks are advised to use them where they span whole ones."""

MIN_LARGE_ROW_BLOCK_BYTES = 2 * HUGE_PAGE_BYTES
"""The smallest block of a key whose page holds fewer than :data:`MAX_PAGE_STEPS` steps (camera frames): it spans a
whole huge page wherever it starts, and it holds several pages of every environment, so that an episode's pages sit
in few blocks and its gather is a few indexed copies rather than one per page."""

SUPPORTED_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
    }
)
"""The dtypes a recorded tensor may have: those with a numpy (and so an HDF5) counterpart."""


@dataclass
class PoolStatistics:
    """The memory of the pools of a :class:`PagedEpisodeStore`."""

    keys: int = 0
    """Recorded keys (one pool each)."""

    pages_in_use: int = 0
    """Pages holding recorded steps."""

    pages_held: int = 0
    """Pages allocated, in use or free."""

    bytes_recorded: int = 0
    """Bytes of the recorded steps themselves."""

    bytes_in_use: int = 0
    """Bytes of the pages in use: the recorded steps plus the unfilled end of each environment's last page per key."""

    bytes_held: int = 0
    """Bytes of every page allocated (pools keep their largest size, and reuse freed pages)."""


class PagedEpisodeStore:
    """The recorded steps of every environment's current episode, in pages of one pool per key.

    Keys are ``/``-separated paths (``obs/joint_pos``). A key's dtype and row shape are fixed by its first batch while
    any environment holds steps of it. Not thread-safe: the caller serialises access.
    """

    def __init__(self, num_envs: int, device: str | torch.device, pin_memory: bool = False):
        """Create an empty store.

        Args:
            num_envs: The number of environments.
            device: Where the pages live: the device the batches are recorded on, or ``"cpu"`` to offload them.
            pin_memory: Allocate CPU pages in pinned memory (for non-blocking copies from a GPU).
        """
        self._num_envs = num_envs
        self._device = torch.device(device)
        self._pin_memory = pin_memory and self._device.type == "cpu" and torch.cuda.is_available()
        self._pools: dict[str, _KeyPool] = {}
        # the groups that keys live in (every proper prefix of a key), to refuse a key used as a group and a leaf
        self._groups: set[str] = set()

    @property
    def device(self) -> torch.device:
        """Where the pages live."""
        return self._device

    @property
    def statistics(self) -> PoolStatistics:
        """The pools' memory."""
        stats = PoolStatistics(keys=len(self._pools))
        for pool in self._pools.values():
            pages = pool.pages_in_use
            stats.pages_in_use += pages
            stats.pages_held += pool.capacity
            stats.bytes_recorded += pool.total_length() * pool.row_bytes
            stats.bytes_in_use += pages * pool.page_bytes
            stats.bytes_held += pool.capacity * pool.page_bytes
        return stats

    def check(self, leaves: Sequence[tuple[str, object]], env_ids: np.ndarray) -> None:
        """Check recorded batches before any of them is added.

        Args:
            leaves: ``(key, batch)`` pairs: every batch must be a dense tensor with one row per environment id.
            env_ids: The environment ids the batches are recorded for.

        Raises:
            TypeError: If a batch is not a dense tensor, or its dtype cannot be stored.
            ValueError: If a key is malformed or used both as a key and as a group of keys, a batch does not have one
                row per environment id, or its dtype or row shape differ from the steps of the key recorded so far.
        """
        for key, batch in leaves:
            # the common case, a batch of a key recorded before, is checked without building any message
            if not self._fits_pool(key, batch, len(env_ids)):
                self._check_batch(key, batch, env_ids, {key for key, _ in leaves})

    def _fits_pool(self, key: str, batch: object, num_rows: int) -> bool:
        """Whether a batch is a dense tensor with one row per id that the key's existing pool takes."""
        pool = self._pools.get(key)
        return (
            pool is not None
            and isinstance(batch, torch.Tensor)
            and batch.layout == torch.strided
            and batch.dim() > 0
            and batch.shape[0] == num_rows
            and pool.accepts(batch)
        )

    def _check_batch(self, key: str, batch: object, env_ids: np.ndarray, batch_keys: set[str]) -> None:
        """Raise the error that says what is wrong with a batch; a batch of a new key has its key checked."""
        where = f"key '{key}' of envs {_ids_text(env_ids)}"
        if not isinstance(batch, torch.Tensor):
            raise TypeError(f"Recorded value for {where} must be a torch.Tensor or a dict, got {type(batch)}.")
        if batch.layout != torch.strided:
            raise TypeError(f"Recorded value for {where} is a {batch.layout} tensor; record a dense tensor.")
        if batch.dtype not in SUPPORTED_DTYPES:
            raise TypeError(
                f"Recorded value for {where} has dtype {batch.dtype}, which a dataset file cannot store;"
                " convert it (for example to torch.float32) before recording."
            )
        if batch.dim() == 0 or batch.shape[0] != len(env_ids):
            raise ValueError(
                f"Recorded value for {where} must have one row per environment id: expected leading dimension"
                f" {len(env_ids)}, got shape {tuple(batch.shape)}."
            )
        pool = self._pools.get(key)
        if pool is None:
            self._check_new_key(key, batch_keys)
        elif pool.holders().any():
            raise ValueError(
                f"Recorded value for {where} has row shape {tuple(batch.shape[1:])} and dtype {batch.dtype}, but"
                f" the steps recorded so far (envs {_ids_text(np.flatnonzero(pool.holders()))}) have row shape"
                f" {pool.row_shape} and dtype {pool.dtype}."
            )

    def add(self, key: str, batch: torch.Tensor, env_ids: np.ndarray) -> None:
        """Append one step of a key to each environment's episode: row ``i`` of ``batch`` to ``env_ids[i]``.

        The batch must have passed :meth:`check`. It is copied into the pages with one indexed copy.

        Args:
            key: The key.
            batch: The rows, one per environment id.
            env_ids: Distinct environment ids (int64).
        """
        pool = self._pools.get(key)
        if pool is None or (not pool.accepts(batch) and not pool.holders().any()):
            pool = self._pools[key] = _KeyPool(batch, self._num_envs, self._device, self._pin_memory)
            self._groups.update(_proper_prefixes(key))
        pool.append(batch, env_ids)

    def has_steps(self, env_id: int) -> bool:
        """Whether the environment's episode holds any recorded step."""
        return any(pool.num_pages[env_id] for pool in self._pools.values())

    def take(self, env_id: int) -> dict[str, torch.Tensor]:
        """The environment's recorded steps, per key, as owned ``(steps, ...)`` tensors; its pages go back to the pool.

        Until :meth:`release`, the keys taken stay fixed in dtype and row shape for the environment's episode: its
        steps now live outside the store.

        Args:
            env_id: The environment id.

        Returns:
            A flat dict from key to a new, contiguous tensor (on the store's device) for every key with steps.
        """
        return {key: pool.take(env_id) for key, pool in self._pools.items() if pool.num_pages[env_id]}

    def release(self, env_ids: Iterable[int]) -> None:
        """End the episodes of the environments: their steps are dropped and their pages go back to the pools."""
        env_ids = np.asarray(list(env_ids), dtype=np.int64)
        for pool in self._pools.values():
            pool.release(env_ids)

    def _check_new_key(self, key: str, batch_keys: set[str]) -> None:
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise ValueError(
                f"Recorded key '{key}' has an empty, '.' or '..' part: keys are '/'-separated names such as"
                " 'obs/joint_pos'."
            )
        if key in self._groups or any(other.startswith(f"{key}/") for other in batch_keys):
            raise ValueError(f"Cannot record key '{key}' as a tensor: it is also a group of keys.")
        for prefix in _proper_prefixes(key):
            if prefix in self._pools or prefix in batch_keys:
                raise ValueError(f"Cannot record key '{key}': '{prefix}' is recorded as a tensor, not a group.")


class PagedEpisode(EpisodeData):
    """The episode of one environment whose steps are recorded into a :class:`PagedEpisodeStore`.

    It behaves as an :class:`EpisodeData` does while it is recorded: every access to its data first moves the steps
    recorded so far out of the pages into its per-step lists, so :attr:`data`, the getters, :meth:`add` and
    :meth:`is_empty` see every step, in order, and changes made through them are exported. Steps recorded after that
    go to the pages again. :meth:`snapshot` hands everything over as stacked tensors for export.
    """

    def __init__(self, store: PagedEpisodeStore, env_id: int, lock: threading.RLock | None = None):
        """Create the empty episode of an environment.

        Args:
            store: The store the environment's steps are recorded into.
            env_id: The environment id.
            lock: The lock that guards the store (the recorder's), if it is used from several threads.
        """
        self._store = store
        self._env = env_id
        self._lock = lock or contextlib.nullcontext()
        super().__init__()
        self.env_id = env_id

    @property
    def _data(self) -> dict:
        """The per-step lists, after moving the steps recorded in the pages into them."""
        with self._lock:
            lists = self.__dict__["_lists"]
            if self._store.has_steps(self._env):
                for key, steps in self._store.take(self._env).items():
                    _node(lists, key).extend(steps.unbind(0))
            return lists

    @_data.setter
    def _data(self, data: dict) -> None:
        # setting the data (after construction) replaces the episode's steps, those in the pages included
        with self._lock:
            if "_lists" in self.__dict__ and self._store.has_steps(self._env):
                self._store.release([self._env])
            self.__dict__["_lists"] = data

    def is_empty(self) -> bool:
        """Check if the episode data is empty."""
        with self._lock:
            return not self.__dict__["_lists"] and not self._store.has_steps(self._env)

    def snapshot(self) -> EpisodeData:
        """Hand the episode over for export: its steps as owned, stacked tensors, and its metadata.

        The pages go back to the pool; the returned episode shares no container and no tensor memory with this one,
        the store, or the tensors that were recorded.

        Returns:
            A new episode whose leaves are ``(steps, ...)`` tensors.
        """
        with self._lock:
            data = _stack_lists(self.__dict__["_lists"])
            taken = self._store.take(self._env)
        for key, steps in taken.items():
            parent, leaf = _parent(data, key)
            earlier = parent.get(leaf)
            if isinstance(earlier, dict):
                raise ValueError(f"Cannot export key '{key}': it holds steps and a group of keys.")
            parent[leaf] = steps if earlier is None else torch.cat((earlier.to(steps.device), steps))
        snapshot = EpisodeData()
        snapshot.data = data
        snapshot.seed = self.seed
        snapshot.success = self.success
        snapshot.env_id = self.env_id
        return snapshot


class _KeyPool:
    """The pages of one key, in blocks of pages, with each environment's page table.

    Pages live in fixed-size blocks (one tensor each): a pool grows by a block, without moving a page, and keeps its
    blocks, reusing the pages that episodes give back (as a caching allocator does). Free pages are handed out lowest
    first, so the pages written at one step sit in few blocks: a batch is written with one indexed copy per block it
    touches, usually one.
    """

    def __init__(self, batch: torch.Tensor, num_envs: int, device: torch.device, pin_memory: bool):
        self.dtype = batch.dtype
        self.row_shape = tuple(batch.shape[1:])
        self._row_elements = math.prod(self.row_shape)
        self.row_bytes = self._row_elements * batch.element_size()
        # powers of two, so that a row's page, block and place are shifts and masks away
        self._page_shift = _log2_floor(max(1, min(MAX_PAGE_STEPS, PAGE_BYTES // max(1, self.row_bytes))))
        self._page_mask = (1 << self._page_shift) - 1
        self.page_steps = 1 << self._page_shift
        self.page_bytes = self.page_steps * self.row_bytes
        # a block holds a page for every environment, and at least MIN_BLOCK_BYTES (MIN_LARGE_ROW_BLOCK_BYTES for
        # large rows)
        min_block_bytes = MIN_BLOCK_BYTES if self.page_steps == MAX_PAGE_STEPS else MIN_LARGE_ROW_BLOCK_BYTES
        block_pages = max(num_envs, min_block_bytes // max(1, self.page_bytes))
        self._block_shift = self._page_shift + _log2_ceil(block_pages)
        self._block_mask = (1 << self._block_shift) - 1
        self.block_pages = 1 << (self._block_shift - self._page_shift)
        # large rows are copied as words of the widest integer type that divides them: copying a camera frame one
        # uint8 element at a time is several times slower
        self._word = None
        if self.row_bytes >= WORD_COPY_BYTES:
            self._word = next(word for word in (torch.int32, torch.int16) if self.row_bytes % _size(word) == 0)
        self._device = device
        self._on_cpu = device.type == "cpu"
        self._pin_memory = pin_memory
        # each block's rows, as they are copied (see _as_words); block b holds pages [b * block_pages, ...)
        self._blocks: list[torch.Tensor] = []
        self._free = np.zeros(0, dtype=bool)
        self.page_table = np.full((num_envs, 1), -1, dtype=np.int64)
        self.num_pages = np.zeros(num_envs, dtype=np.int64)
        # environments whose episode holds steps of the key taken out of the pages
        self._taken = np.zeros(num_envs, dtype=bool)
        # the row each environment writes next; at a multiple of page_steps, the environment needs a new page
        self._cursor = np.zeros(num_envs, dtype=np.int64)
        # a batch copied from a GPU into pinned staging memory, scattered into the pages once the copy is done
        self._staging: torch.Tensor | None = None
        self._pending: tuple[np.ndarray, torch.Tensor, torch.cuda.Event] | None = None
        self._add_blocks(1)

    @property
    def capacity(self) -> int:
        return len(self._free)

    @property
    def pages_in_use(self) -> int:
        return self.capacity - int(np.count_nonzero(self._free))

    def length(self, env_id: int) -> int:
        pages = self.num_pages[env_id]
        if not pages:
            return 0
        last_page_start = self.page_table[env_id, pages - 1] << self._page_shift
        return int((pages - 1) * self.page_steps + self._cursor[env_id] - last_page_start)

    def total_length(self) -> int:
        return sum(self.length(env_id) for env_id in np.flatnonzero(self.num_pages))

    def holders(self) -> np.ndarray:
        """Whether each environment's episode holds steps of the key, in the pages or taken out of them."""
        return (self.num_pages > 0) | self._taken

    def accepts(self, batch: torch.Tensor) -> bool:
        return batch.dtype == self.dtype and batch.shape[1:] == self.row_shape

    def append(self, batch: torch.Tensor, env_ids: np.ndarray) -> None:
        rows = self._cursor[env_ids]
        starting = (rows & self._page_mask) == 0
        if np.count_nonzero(starting):
            envs = env_ids[starting]
            slots = self.num_pages[envs]
            if slots.max() >= self.page_table.shape[1]:
                grown = np.full((self.page_table.shape[0], 2 * (slots.max() + 1)), -1, dtype=np.int64)
                grown[:, : self.page_table.shape[1]] = self.page_table
                self.page_table = grown
            pages = self._allocate(len(envs))
            self.page_table[envs, slots] = pages
            self.num_pages[envs] = slots + 1
            rows[starting] = pages << self._page_shift
        self._scatter(rows, batch)
        self._cursor[env_ids] = rows + 1

    def gather(self, env_id: int) -> torch.Tensor:
        self._complete_pending()
        length = self.length(env_id)
        pages = self.page_table[env_id, : self.num_pages[env_id]]
        rows = ((pages[:, None] << self._page_shift) + np.arange(self.page_steps)).reshape(-1)[:length]
        # one indexed copy per run of rows in one block (the pages of an episode sit in few blocks), each straight
        # into its place in the episode's tensor
        blocks = rows >> self._block_shift
        starts = np.flatnonzero(np.diff(blocks, prepend=-1))
        first = self._blocks[0]
        taken = torch.empty((length, *first.shape[1:]), dtype=first.dtype, device=first.device)
        if self._on_cpu:
            # written once, here: one fault per huge page rather than one per 4 KiB page
            _advise_huge_pages(taken)
        for start, stop in zip(starts, [*starts[1:], len(rows)]):
            block = self._blocks[blocks[start]]
            torch.index_select(block, 0, self._index(rows[start:stop] & self._block_mask), out=taken[start:stop])
        return taken.view(torch.uint8).view(self.dtype).view(length, *self.row_shape) if self._word else taken

    def take(self, env_id: int) -> torch.Tensor:
        steps = self.gather(env_id)
        self._free_pages(np.array([env_id]))
        self._taken[env_id] = True
        return steps

    def release(self, env_ids: np.ndarray) -> None:
        self._taken[env_ids] = False
        self._free_pages(env_ids)

    def _free_pages(self, env_ids: np.ndarray) -> None:
        if not self.num_pages[env_ids].any():
            return
        self._complete_pending()
        tables = self.page_table[env_ids]
        self._free[tables[tables >= 0]] = True
        self.page_table[env_ids] = -1
        self.num_pages[env_ids] = 0
        self._cursor[env_ids] = 0

    def _scatter(self, rows: np.ndarray, batch: torch.Tensor) -> None:
        self._complete_pending()
        if batch.device.type == "cuda" and self._device.type == "cpu":
            # offload: a non-blocking copy to pinned memory now; the scatter into the pages once it has landed
            if self._staging is None:
                self._staging = torch.empty(
                    (len(self.page_table), *self.row_shape), dtype=self.dtype, pin_memory=self._pin_memory
                )
            staged = self._staging[: len(rows)]
            staged.copy_(batch, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            self._pending = (rows, staged, event)
            return
        self._write_rows(rows, batch if batch.device == self._device else batch.to(self._device))

    def _complete_pending(self) -> None:
        if self._pending is not None:
            rows, staged, event = self._pending
            self._pending = None
            event.synchronize()
            self._write_rows(rows, staged)

    def _write_rows(self, rows: np.ndarray, batch: torch.Tensor) -> None:
        """Copy ``batch[i]`` to page row ``rows[i]``: one indexed copy per block touched."""
        values = self._as_words(batch)
        if len(self._blocks) == 1:
            self._blocks[0].index_copy_(0, self._index(rows), values)
            return
        blocks = rows >> self._block_shift
        first = blocks[0]
        if (blocks == first).all():
            self._blocks[first].index_copy_(0, self._index(rows & self._block_mask), values)
            return
        for block in np.unique(blocks):
            where = np.flatnonzero(blocks == block)
            self._blocks[block].index_copy_(0, self._index(rows[where] & self._block_mask), values[self._index(where)])

    def _index(self, rows: np.ndarray) -> torch.Tensor:
        index = torch.from_numpy(rows)
        return index if self._on_cpu else index.to(self._device)

    def _as_words(self, rows: torch.Tensor) -> torch.Tensor:
        """Rows as they are copied: as they are, or as ``(rows, words)`` of the pool's word type."""
        if self._word is None:
            return rows
        return rows.contiguous().view(len(rows), self._row_elements).view(torch.uint8).view(self._word)

    def _allocate(self, count: int) -> np.ndarray:
        """``count`` free pages, lowest first (the pool grows by whole blocks when it has too few)."""
        missing = count - int(np.count_nonzero(self._free))
        if missing > 0:
            self._add_blocks(-(-missing // self.block_pages))
        pages = np.flatnonzero(self._free)[:count]
        self._free[pages] = False
        return pages

    def _add_blocks(self, count: int) -> None:
        shape = (1 << self._block_shift, *self.row_shape)
        for _ in range(count):
            if self._pin_memory:
                block = torch.empty(shape, dtype=self.dtype, pin_memory=True)
            else:
                block = torch.empty(shape, dtype=self.dtype, device=self._device)
                if self._on_cpu:
                    _advise_huge_pages(block)
            self._blocks.append(self._as_words(block))
        self._free = np.concatenate([self._free, np.ones(count * self.block_pages, dtype=bool)])


def _madvise():
    """libc's ``madvise`` on Linux, or None."""
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        function = ctypes.CDLL(None, use_errno=True).madvise
        function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        return function
    return None


_MADVISE = _madvise()
_MADV_HUGEPAGE = 14


def _advise_huge_pages(block: torch.Tensor) -> None:
    """Advise Linux to back the whole 2 MiB pages of a new CPU tensor with transparent huge pages.

    A new block is written first by a recording step, and a gathered episode by its gather: with 4 KiB pages, the
    kernel faults in and zeroes the tensor one page at a time inside that call (most of the cost of a first episode
    with camera keys, and of gathering a camera episode). Where transparent huge pages are in ``madvise`` mode (a
    common default), this makes it one fault per 2 MiB. It is advice: where it is not supported, nothing changes.
    """
    start = block.data_ptr()
    end = start + block.numel() * block.element_size()
    aligned = -(-start // HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES
    length = (end - aligned) // HUGE_PAGE_BYTES * HUGE_PAGE_BYTES
    if _MADVISE is not None and length > 0:
        _MADVISE(aligned, length, _MADV_HUGEPAGE)


def _ids_text(env_ids: np.ndarray, most: int = 8) -> str:
    """Environment ids for a message: ``[0, 1, 2]``, or the first ``most`` of them and how many more."""
    ids = [int(env_id) for env_id in env_ids[:most]]
    return f"{ids}" if len(env_ids) <= most else f"{ids[:-1] + ['...']} ({len(env_ids)} envs)"


def _size(dtype: torch.dtype) -> int:
    return torch.empty(0, dtype=dtype).element_size()


def _log2_floor(value: int) -> int:
    return value.bit_length() - 1


def _log2_ceil(value: int) -> int:
    return (value - 1).bit_length()


def _proper_prefixes(key: str) -> list[str]:
    """``a``, ``a/b`` for ``a/b/c``."""
    parts = key.split("/")
    return ["/".join(parts[:end]) for end in range(1, len(parts))]


def _node(tree: dict, key: str) -> list:
    """The per-step list at a ``/``-separated key of a nested dict, made (with its parents) if missing."""
    parent, leaf = _parent(tree, key)
    node = parent.setdefault(leaf, [])
    if isinstance(node, torch.Tensor):
        # stacked already (pre_export was called while recording): back to one entry per step
        node = parent[leaf] = list(node.unbind(0))
    if not isinstance(node, list):
        raise ValueError(f"Cannot record key '{key}' as a tensor: the episode holds a group of keys there.")
    return node


def _parent(tree: dict, key: str) -> tuple[dict, str]:
    """The dict that holds a ``/``-separated key (made with its parents if missing), and the key's last part."""
    *parents, leaf = key.split("/")
    for name in parents:
        node = tree.setdefault(name, {})
        if not isinstance(node, dict):
            raise ValueError(f"Cannot export key '{key}': '{name}' holds steps, not a group of keys.")
        tree = node
    return tree, leaf


def _stack_lists(tree: dict) -> dict:
    """A new nested dict of new tensors: every per-step list stacked, every tensor copied, empty lists left out."""
    stacked = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            stacked[key] = _stack_lists(value)
        elif isinstance(value, list) and value:
            stacked[key] = torch.stack(value)
        elif isinstance(value, torch.Tensor):
            stacked[key] = value.clone()
    return stacked
