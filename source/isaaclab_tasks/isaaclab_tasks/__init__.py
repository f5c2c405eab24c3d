"""Tasks registered with gymnasium (importing this package registers them)."""

from .manager_based.manipulation import stack  # noqa: F401  (registers the stacking tasks)
