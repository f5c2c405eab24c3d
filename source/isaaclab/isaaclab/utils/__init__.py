"""Utilities: the config decorator and dataset handling."""

from .configclass import MISSING, configclass

__all__ = ["MISSING", "configclass"]
