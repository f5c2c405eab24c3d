"""Embedded cube-stacking task: a floating parallel gripper stacks three cubes, simulated in torch."""

import gymnasium as gym

from .stack_env_cfg import GripperCubeStackEnvCfg, GripperCubeStackVisuomotorEnvCfg

gym.register(
    id="Isaac-Stack-Cube-Gripper-IK-Rel-v0",
    entry_point="isaaclab.envs:ManagerBasedRLEnv",
    kwargs={"env_cfg_entry_point": f"{__name__}.stack_env_cfg:GripperCubeStackEnvCfg"},
    disable_env_checker=True,
)

gym.register(
    id="Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-v0",
    entry_point="isaaclab.envs:ManagerBasedRLEnv",
    kwargs={"env_cfg_entry_point": f"{__name__}.stack_env_cfg:GripperCubeStackVisuomotorEnvCfg"},
    disable_env_checker=True,
)

__all__ = ["GripperCubeStackEnvCfg", "GripperCubeStackVisuomotorEnvCfg"]
