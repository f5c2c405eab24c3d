"""Launching the simulation runtime of a script, with the names of Isaac Lab 3.0's ``isaaclab.app``.

The embedded runtime is plain PyTorch: there is no simulator application to start, so launching does nothing and a
config has no runtime choices to resolve. Scripts written against Isaac Lab 3.0 (``add_launcher_args``,
``launch_simulation``, ``scan``) run unchanged on it.
"""

from .sim_launcher import add_launcher_args, launch_simulation, scan

__all__ = ["add_launcher_args", "launch_simulation", "scan"]
