"""The simulation context of the embedded runtime: whether the simulation is playing or stopped."""

from __future__ import annotations

from .simulation_cfg import SimulationCfg


class SimulationContext:
    """Tracks the play state of an environment's simulation, as Isaac Lab's ``SimulationContext`` reports it.

    The embedded physics is stepped by the environment itself, so the context only plays from creation until
    :meth:`stop` (called when the environment closes).
    """

    def __init__(self, cfg: SimulationCfg) -> None:
        """Create a playing simulation context.

        Args:
            cfg: The simulation settings.
        """
        self.cfg = cfg
        self._stopped = False

    def is_playing(self) -> bool:
        """Whether the simulation is playing."""
        return not self._stopped

    def is_stopped(self) -> bool:
        """Whether the simulation was stopped."""
        return self._stopped

    def stop(self) -> None:
        """Stop the simulation."""
        self._stopped = True
