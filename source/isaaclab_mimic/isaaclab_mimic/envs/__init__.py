"""Mimic environments (importing this package registers their gymnasium ids)."""

import gymnasium as gym

from .stack_gripper_ik_rel_mimic_env import GripperCubeStackIKRelMimicEnv
from .stack_gripper_ik_rel_mimic_env_cfg import (
    GripperCubeStackIKRelMimicEnvCfg,
    GripperCubeStackIKRelVisuomotorMimicEnvCfg,
)

gym.register(
    id="Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0",
    entry_point=f"{__name__}:GripperCubeStackIKRelMimicEnv",
    kwargs={"env_cfg_entry_point": f"{__name__}.stack_gripper_ik_rel_mimic_env_cfg:GripperCubeStackIKRelMimicEnvCfg"},
    disable_env_checker=True,
)

gym.register(
    id="Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0",
    entry_point=f"{__name__}:GripperCubeStackIKRelMimicEnv",
    kwargs={
        "env_cfg_entry_point": (
            f"{__name__}.stack_gripper_ik_rel_mimic_env_cfg:GripperCubeStackIKRelVisuomotorMimicEnvCfg"
        )
    },
    disable_env_checker=True,
)

__all__ = [
    "GripperCubeStackIKRelMimicEnv",
    "GripperCubeStackIKRelMimicEnvCfg",
    "GripperCubeStackIKRelVisuomotorMimicEnvCfg",
]
