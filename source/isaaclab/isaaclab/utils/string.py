"""String helpers of Isaac Lab scripts."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def list_intersection(list1: list[Any], list2: list[Any] | None) -> list[Any]:
    """The items of ``list1`` that are also in ``list2`` (all of ``list1`` if ``list2`` is None), in order.

    Args:
        list1: The first list.
        list2: The second list, or None.
    """
    if list2 is None:
        return list(list1)
    keep = set(list2)
    return [item for item in list1 if item in keep]


def string_to_callable(name: str, separator: str = ":") -> Callable:
    """The callable named ``"module<separator>attribute"``.

    Args:
        name: The module path and the attribute, joined by ``separator``.
        separator: What separates the attribute from the module path; with ``"."`` the last dot does.

    Raises:
        ValueError: If the name has no separator, the module cannot be imported, or the attribute is not callable.
    """
    module_name, sep, attribute_name = name.rpartition(separator)
    if not sep or not module_name:
        raise ValueError(f"'{name}' is not of the form 'module{separator}attribute'.")
    try:
        attribute = getattr(importlib.import_module(module_name), attribute_name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"Cannot resolve '{name}': {err}") from err
    if not callable(attribute):
        raise ValueError(f"'{name}' is not callable.")
    return attribute
