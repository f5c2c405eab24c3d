"""Managers and their terms."""

from .manager_base import ManagerBase, ManagerTermBase
from .manager_term_cfg import ManagerTermBaseCfg, RecorderTermCfg, TerminationTermCfg
from .recorder_manager import DatasetExportMode, RecorderManager, RecorderManagerBaseCfg, RecorderTerm

__all__ = [
    "DatasetExportMode",
    "ManagerBase",
    "ManagerTermBase",
    "ManagerTermBaseCfg",
    "RecorderManager",
    "RecorderManagerBaseCfg",
    "RecorderTerm",
    "RecorderTermCfg",
    "TerminationTermCfg",
]
