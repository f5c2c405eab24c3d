"""Utilities to build task configurations from the gymnasium registry."""

from .parse_cfg import load_cfg_from_registry, parse_env_cfg

__all__ = ["load_cfg_from_registry", "parse_env_cfg"]
