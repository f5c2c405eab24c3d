"""Configurations of manager terms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from isaaclab.utils import MISSING, configclass

if TYPE_CHECKING:
    from .manager_base import ManagerTermBase
    from .recorder_manager import RecorderTerm


@configclass
class ManagerTermBaseCfg:
    """Configuration of a manager term."""

    func: Callable | type[ManagerTermBase] = MISSING
    """The function or class of the term."""

    params: dict[str, Any] = dict()
    """Keyword arguments passed to the term."""


@configclass
class RecorderTermCfg:
    """Configuration of a recorder term."""

    class_type: type[RecorderTerm] = MISSING
    """The recorder term class to build."""


@configclass
class TerminationTermCfg(ManagerTermBaseCfg):
    """Configuration of a termination term: ``func(env, **params)`` returns a bool tensor (num_envs,)."""

    time_out: bool = False
    """Whether the term is a time-out (truncation) rather than a terminal state."""
