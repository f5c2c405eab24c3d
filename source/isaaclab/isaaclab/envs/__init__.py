"""Manager-based environments: the slice of Isaac Lab's envs that recording and Mimic use."""

from .action_manager import ActionManager, ActionTerm, ActionTermCfg
from .common import VecEnvObs, VecEnvStepReturn
from .interactive_scene import InteractiveScene, InteractiveSceneCfg
from .manager_based_env import ManagerBasedEnv
from .manager_based_env_cfg import ManagerBasedEnvCfg
from .manager_based_rl_env import ManagerBasedRLEnv
from .manager_based_rl_env_cfg import ManagerBasedRLEnvCfg
from .manager_based_rl_mimic_env import ManagerBasedRLMimicEnv
from .mimic_env_cfg import DataGenConfig, MimicEnvCfg, SubTaskConfig
from .observation_manager import ObservationGroupCfg, ObservationManager, ObservationTermCfg
from .simulation_cfg import SimulationCfg
from .termination_manager import TerminationManager, TerminationTermCfg

__all__ = [
    "ActionManager",
    "ActionTerm",
    "ActionTermCfg",
    "DataGenConfig",
    "InteractiveScene",
    "InteractiveSceneCfg",
    "ManagerBasedEnv",
    "ManagerBasedEnvCfg",
    "ManagerBasedRLEnv",
    "ManagerBasedRLEnvCfg",
    "ManagerBasedRLMimicEnv",
    "MimicEnvCfg",
    "ObservationGroupCfg",
    "ObservationManager",
    "ObservationTermCfg",
    "SimulationCfg",
    "SubTaskConfig",
    "TerminationManager",
    "TerminationTermCfg",
    "VecEnvObs",
    "VecEnvStepReturn",
]
