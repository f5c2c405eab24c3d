"""Configuration of a manager-based environment."""

from __future__ import annotations

from isaaclab.managers import RecorderManagerBaseCfg
from isaaclab.utils import MISSING, configclass

from .interactive_scene import InteractiveSceneCfg
from .simulation_cfg import SimulationCfg


@configclass
class ManagerBasedEnvCfg:
    """Configuration of a :class:`~isaaclab.envs.ManagerBasedEnv`."""

    sim: SimulationCfg = SimulationCfg()
    """Physics settings."""

    decimation: int = MISSING
    """Number of physics steps per env step (the control period is ``sim.dt * decimation``)."""

    scene: InteractiveSceneCfg = MISSING
    """The scene (assets, number of environments and their spacing)."""

    actions: object = MISSING
    """Action terms (a configclass of :class:`~isaaclab.envs.action_manager.ActionTermCfg`)."""

    observations: object = MISSING
    """Observation groups (a configclass of :class:`~isaaclab.envs.observation_manager.ObservationGroupCfg`)."""

    recorders: object = RecorderManagerBaseCfg()
    """Recorder terms; the default has none, which leaves the recorder manager inert."""

    seed: int | None = None
    """Random seed of the environment; None draws one from torch's global generator."""

    env_name: str | None = None
    """Name of the environment (task id), stored in the dataset files."""
