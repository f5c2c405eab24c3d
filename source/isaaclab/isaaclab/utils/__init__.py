"""Utilities: the config decorator and dataset handling."""

from .configclass import MISSING, configclass, instantiate

__all__ = ["MISSING", "configclass", "instantiate"]
