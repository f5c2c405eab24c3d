"""Isaac Lab Mimic: data generation from a few annotated source demos."""

__version__ = "0.1.0"
