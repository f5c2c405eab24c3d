"""Configuration of the physics simulation that a manager-based env steps."""

from isaaclab.utils import configclass


@configclass
class SimulationCfg:
    """Physics settings of an environment."""

    dt: float = 1.0 / 60.0
    """Physics time step in seconds."""

    render_interval: int = 1
    """Number of physics steps per rendering step."""

    device: str = "cpu"
    """Torch device the simulation runs on (``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``)."""
