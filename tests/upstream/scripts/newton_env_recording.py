# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Record a real ManagerBasedRLEnv of Isaac Lab 3.0 (Newton backend, CPU) with ActionStateRecorderManagerCfg.

Run with the upstream environment's python (the patched packages first on ``PYTHONPATH`` for the asynchronous
modes). The scene is a cube pushed about on a static floor, both primitive shapes, so no asset server is needed.
Each of the four envs ends its episodes after its own number of steps, so resets are staggered; even envs end with
the "success" termination term, odd ones with a time-out. Everything random is seeded, so two runs record the same
episodes: the dataset files of the sync, async and async+offload modes must be identical.

Usage: ``python newton_env_recording.py --mode {sync,async,async_offload} --output_dir DIR``. Prints one JSON line
with the export counts and the seconds taken.
"""

from __future__ import annotations

import argparse
import json
import time

MODES = {
    "sync": {},
    "async": {"async_write": True},
    "async_offload": {"async_write": True, "early_cpu_offload": True},
}
NUM_ENVS = 4
NUM_STEPS = 40
EPISODE_STEPS = (3, 5, 7, 4)
"""Steps per episode of each env (staggered resets)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(MODES), required=True)
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--filename", default="dataset")
    args = parser.parse_args()

    start = time.perf_counter()
    from isaaclab_newton.physics import NewtonCfg

    from isaaclab.sim import SimulationCfg
    from isaaclab.test.utils import launch_test_simulation

    launch_test_simulation(SimulationCfg(device="cpu", physics=NewtonCfg(use_cuda_graph=False)), device="cpu")

    import torch

    from isaaclab.envs import ManagerBasedRLEnv

    env_cfg = make_env_cfg(args.mode, args.output_dir, args.filename)
    env = ManagerBasedRLEnv(cfg=env_cfg)
    setup_seconds = time.perf_counter() - start

    start = time.perf_counter()
    generator = torch.Generator().manual_seed(7)
    env.reset(seed=env_cfg.seed)
    for _ in range(NUM_STEPS):
        actions = torch.rand((NUM_ENVS, 3), generator=generator) * 2.0 - 1.0
        env.step(actions)
    recorder = env.recorder_manager
    env.close()  # drops the env's reference to the recorder (Isaac Lab 3.0 leaves closing it to its finalizer)
    recorder.close()  # writes everything exported and closes the files
    counts = {"succeeded": recorder.exported_successful_episode_count, "failed": recorder.exported_failed_episode_count}
    print(
        json.dumps(
            {
                "mode": args.mode,
                "exported": counts,
                "setup_seconds": round(setup_seconds, 2),
                "run_seconds": round(time.perf_counter() - start, 2),
            }
        )
    )


def make_env_cfg(mode: str, output_dir: str, filename: str):
    """The env config: a cube on a floor, a velocity action on the cube, staggered success/time-out terms."""
    import torch
    from isaaclab_newton.physics import NewtonCfg

    import isaaclab.envs.mdp as mdp
    import isaaclab.sim as sim_utils
    from isaaclab.assets import AssetBaseCfg, RigidObjectCfg
    from isaaclab.envs.mdp.recorders.recorders_cfg import ActionStateRecorderManagerCfg
    from isaaclab.managers import ActionTerm, ActionTermCfg, DatasetExportMode, SceneEntityCfg
    from isaaclab.managers import EventTermCfg as EventTerm
    from isaaclab.managers import ObservationGroupCfg as ObsGroup
    from isaaclab.managers import ObservationTermCfg as ObsTerm
    from isaaclab.managers import TerminationTermCfg as DoneTerm
    from isaaclab.test.env_cfgs import make_empty_manager_based_rl_env_cfg
    from isaaclab.utils import configclass

    class CubeVelocityAction(ActionTerm):
        """Sets the cube's horizontal velocity from a 3-D action (the third component spins it about z)."""

        def __init__(self, cfg, env):
            super().__init__(cfg, env)
            self._raw = torch.zeros(env.num_envs, 3, device=env.device)
            self._processed = torch.zeros_like(self._raw)

        @property
        def action_dim(self) -> int:
            return 3

        @property
        def raw_actions(self) -> torch.Tensor:
            return self._raw

        @property
        def processed_actions(self) -> torch.Tensor:
            return self._processed

        def process_actions(self, actions: torch.Tensor) -> None:
            self._raw[:] = actions
            self._processed[:] = actions * torch.tensor([0.5, 0.5, 2.0], device=actions.device)

        def apply_actions(self) -> None:
            velocity = torch.zeros(self.num_envs, 6, device=self.device)
            velocity[:, 0:2] = self._processed[:, 0:2]
            velocity[:, 2] = self._asset.data.root_lin_vel_w.torch[:, 2]
            velocity[:, 5] = self._processed[:, 2]
            self._asset.write_root_velocity_to_sim_index(root_velocity=velocity)

    @configclass
    class CubeVelocityActionCfg(ActionTermCfg):
        class_type: type = CubeVelocityAction

    episode_steps = torch.tensor(EPISODE_STEPS)

    def episode_over(env, succeeding: bool) -> torch.Tensor:
        over = env.episode_length_buf >= episode_steps.to(env.device)
        even = torch.arange(env.num_envs, device=env.device) % 2 == 0
        return over & (even if succeeding else ~even)

    cube = SceneEntityCfg("cube")

    @configclass
    class PolicyCfg(ObsGroup):
        cube_pos = ObsTerm(func=mdp.root_pos_w, params={"asset_cfg": cube})
        cube_quat = ObsTerm(func=mdp.root_quat_w, params={"asset_cfg": cube})
        cube_lin_vel = ObsTerm(func=mdp.root_lin_vel_w, params={"asset_cfg": cube})

        def __post_init__(self):
            self.concatenate_terms = False

    @configclass
    class ObservationsCfg:
        policy: PolicyCfg = PolicyCfg()

    @configclass
    class ActionsCfg:
        cube_velocity = CubeVelocityActionCfg(asset_name="cube")

    @configclass
    class TerminationsCfg:
        success = DoneTerm(func=episode_over, params={"succeeding": True})
        time_out = DoneTerm(func=episode_over, params={"succeeding": False}, time_out=True)

    @configclass
    class EventsCfg:
        reset_cube = EventTerm(
            func=mdp.reset_root_state_uniform,
            mode="reset",
            params={
                "pose_range": {"x": (-0.2, 0.2), "y": (-0.2, 0.2), "yaw": (-1.0, 1.0)},
                "velocity_range": {"z": (-0.5, 0.0)},
                "asset_cfg": cube,
            },
        )

    cfg = make_empty_manager_based_rl_env_cfg(device="cpu", num_envs=NUM_ENVS, env_spacing=2.0)
    cfg.seed = 42
    cfg.sim.physics = NewtonCfg(use_cuda_graph=False)
    cfg.scene.floor = AssetBaseCfg(
        prim_path="/World/floor",
        spawn=sim_utils.CuboidCfg(size=(20.0, 20.0, 0.1), collision_props=sim_utils.CollisionPropertiesCfg()),
        init_state=AssetBaseCfg.InitialStateCfg(pos=(0.0, 0.0, -0.05)),
    )
    cfg.scene.cube = RigidObjectCfg(
        prim_path="{ENV_REGEX_NS}/Cube",
        spawn=sim_utils.CuboidCfg(
            size=(0.2, 0.2, 0.2),
            rigid_props=sim_utils.RigidBodyPropertiesCfg(),
            mass_props=sim_utils.MassPropertiesCfg(mass=1.0),
            collision_props=sim_utils.CollisionPropertiesCfg(),
        ),
        init_state=RigidObjectCfg.InitialStateCfg(pos=(0.0, 0.0, 0.3)),
    )
    cfg.observations = ObservationsCfg()
    cfg.actions = ActionsCfg()
    cfg.terminations = TerminationsCfg()
    cfg.events = EventsCfg()
    cfg.recorders = ActionStateRecorderManagerCfg(
        dataset_export_dir_path=output_dir,
        dataset_filename=filename,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES,
        **MODES[mode],
    )
    return cfg


if __name__ == "__main__":
    main()
