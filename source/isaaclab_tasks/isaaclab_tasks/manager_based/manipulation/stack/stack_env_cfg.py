"""Configurations of the cube-stacking task with a floating gripper under relative pose control."""

from __future__ import annotations

from isaaclab.envs import ManagerBasedRLEnvCfg, SimulationCfg
from isaaclab.envs.observation_manager import ObservationGroupCfg
from isaaclab.envs.observation_manager import ObservationTermCfg as ObsTerm
from isaaclab.envs.termination_manager import TerminationTermCfg as DoneTerm
from isaaclab.utils import configclass

from . import mdp
from .renderer import CameraCfg
from .stack_scene_cfg import StackSceneCfg


@configclass
class ActionsCfg:
    """Action (7): TCP position delta (3), rotation delta as axis-angle (3), gripper (1)."""

    arm_action = mdp.RelativeEefPoseActionCfg()
    gripper_action = mdp.BinaryGripperActionCfg()


@configclass
class PolicyCfg(ObservationGroupCfg):
    """Policy observations, as a dict of terms."""

    actions = ObsTerm(func=mdp.last_action)
    eef_pos = ObsTerm(func=mdp.ee_frame_pos)
    eef_quat = ObsTerm(func=mdp.ee_frame_quat)
    gripper_pos = ObsTerm(func=mdp.gripper_pos)
    object = ObsTerm(func=mdp.object_obs)
    cube_positions = ObsTerm(func=mdp.cube_positions)
    cube_orientations = ObsTerm(func=mdp.cube_orientations)

    concatenate_terms = False


@configclass
class SubtaskCfg(ObservationGroupCfg):
    """Subtask completion signals that Mimic annotates demos with."""

    grasp_1 = ObsTerm(func=mdp.object_grasped, params={"object_name": "cube_2"})
    stack_1 = ObsTerm(func=mdp.object_stacked, params={"upper_object_name": "cube_2", "lower_object_name": "cube_1"})
    grasp_2 = ObsTerm(func=mdp.object_grasped, params={"object_name": "cube_3"})

    concatenate_terms = False


@configclass
class ObservationsCfg:
    """Observation groups."""

    policy = PolicyCfg()
    subtask_terms = SubtaskCfg()


@configclass
class TerminationsCfg:
    """Episodes end on success or after ``episode_length_s``."""

    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    success = DoneTerm(func=mdp.cubes_stacked)


@configclass
class GripperCubeStackEnvCfg(ManagerBasedRLEnvCfg):
    """Stack cube_2 on cube_1 and cube_3 on cube_2 with a floating parallel gripper (20 Hz control)."""

    sim = SimulationCfg(dt=0.025, render_interval=2)
    decimation = 2
    episode_length_s = 30.0
    scene = StackSceneCfg()
    actions = ActionsCfg()
    observations = ObservationsCfg()
    terminations = TerminationsCfg()


@configclass
class VisuomotorPolicyCfg(PolicyCfg):
    """Policy observations with a table camera and a wrist camera (RGB uint8, (H, W, 3))."""

    table_cam = ObsTerm(func=mdp.image, params={"camera_name": "table_cam"})
    wrist_cam = ObsTerm(func=mdp.image, params={"camera_name": "wrist_cam"})


@configclass
class VisuomotorObservationsCfg(ObservationsCfg):
    """Observation groups with camera images in the policy group."""

    policy = VisuomotorPolicyCfg()


@configclass
class GripperCubeStackVisuomotorEnvCfg(GripperCubeStackEnvCfg):
    """The stacking task with camera observations."""

    scene = StackSceneCfg(
        cameras={
            "table_cam": CameraCfg(pos=(1.2, 0.0, 0.6), look_at=(0.5, 0.0, 0.0), fov_deg=55.0),
            "wrist_cam": CameraCfg(pos=(0.06, 0.0, -0.06), attach_to_eef=True, fov_deg=80.0),
        }
    )
    observations = VisuomotorObservationsCfg()
