"""Isaac Lab's core: the managers, datasets and env slice that recording and Mimic need."""

__version__ = "0.1.0"
