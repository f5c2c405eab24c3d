"""A dataclass-based decorator for configuration classes, with Isaac Lab's semantics.

Compared with a plain :func:`dataclasses.dataclass`, a config class:

* turns class attributes without a type annotation into fields (``record_actions = ActionsCfg()``),
* accepts mutable defaults (lists, dicts, other config instances); every instance gets its own deep copy,
* gives every field a default, so that a config builds with no arguments (unset fields hold :data:`MISSING`),
* offers :meth:`replace`, :meth:`to_dict`, :meth:`copy` and :meth:`validate`.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
from collections.abc import Callable
from dataclasses import MISSING
from typing import Any

__all__ = ["MISSING", "configclass", "instantiate"]


def configclass(cls: type | None = None, **dataclass_kwargs: Any) -> Any:
    """Turn a class into a configuration dataclass.

    Usable as ``@configclass`` or ``@configclass(eq=False)``; keyword arguments go to :func:`dataclasses.dataclass`.

    Args:
        cls: The class to wrap.
        **dataclass_kwargs: Extra options for :func:`dataclasses.dataclass`.

    Returns:
        The config class (or a decorator when called with keyword arguments only).
    """

    def wrap(target: type) -> type:
        _annotate_plain_attributes(target)
        _make_defaults_safe(target)
        data_cls = dataclasses.dataclass(target, **dataclass_kwargs)
        data_cls.replace = _replace
        data_cls.to_dict = _to_dict
        data_cls.copy = _copy
        data_cls.validate = _validate
        return data_cls

    if cls is None:
        return wrap
    return wrap(cls)


def instantiate(cfg: Any, *args: Any, **kwargs: Any) -> Any:
    """Build ``cfg.class_type`` with the config as its first argument.

    Args:
        cfg: A config with a ``class_type`` (a class or other callable).
        *args: Further positional arguments of the constructor.
        **kwargs: Keyword arguments of the constructor.

    Returns:
        The built object.
    """
    return cfg.class_type(cfg, *args, **kwargs)


def _is_field_value(name: str, value: Any) -> bool:
    """Whether a class attribute is configuration data rather than behaviour."""
    if name.startswith("__"):
        return False
    if isinstance(value, (staticmethod, classmethod, property)) or inspect.isfunction(value):
        return False
    # nested class definitions are types of the namespace, not values
    return not inspect.isclass(value)


def _annotate_plain_attributes(cls: type) -> None:
    """Give every un-annotated data attribute of the class a type annotation, keeping the definition order."""
    declared = dict(cls.__dict__.get("__annotations__", {}))
    declared_order = list(declared)
    inherited = set()
    for base in cls.__mro__[1:]:
        inherited.update(getattr(base, "__annotations__", {}))
    annotations: dict[str, Any] = {}
    for name, value in cls.__dict__.items():
        if name in declared:
            # annotation-only fields declared before this one keep their place
            while declared_order and declared_order[0] != name:
                pending = declared_order.pop(0)
                annotations[pending] = declared[pending]
            declared_order.pop(0)
            annotations[name] = declared[name]
        elif _is_field_value(name, value):
            # a new field, or a new default for an inherited field
            annotations[name] = Any if name in inherited or value is MISSING else type(value)
    for pending in declared_order:
        annotations[pending] = declared[pending]
    cls.__annotations__ = annotations


def _make_defaults_safe(cls: type) -> None:
    """Replace defaults dataclasses would reject or share by per-instance factories."""
    for name in cls.__annotations__:
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, dataclasses.Field):
            continue
        if value is MISSING and not _has_inherited_default(cls, name):
            setattr(cls, name, dataclasses.field(default_factory=_constant_factory(MISSING)))
        elif value is not MISSING and _needs_factory(value):
            setattr(cls, name, dataclasses.field(default_factory=_copy_factory(value)))


def _has_inherited_default(cls: type, name: str) -> bool:
    for base in cls.__mro__[1:]:
        fields = getattr(base, "__dataclass_fields__", {})
        if name in fields:
            return True
    return False


def _needs_factory(value: Any) -> bool:
    """Whether a default is mutable (dataclasses share or reject those)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, tuple, frozenset, enum.Enum)):
        return False
    # classes and functions are shared, config instances and containers are copied
    return not (inspect.isclass(value) or (callable(value) and not dataclasses.is_dataclass(value)))


def _constant_factory(value: Any) -> Callable[[], Any]:
    return lambda: value


def _copy_factory(value: Any) -> Callable[[], Any]:
    return lambda: copy.deepcopy(value)


def _replace(self: Any, **changes: Any) -> Any:
    """Return a copy of the config with the given fields changed."""
    return dataclasses.replace(self, **changes)


def _copy(self: Any) -> Any:
    """Return a deep copy of the config."""
    return copy.deepcopy(self)


def _to_dict(self: Any) -> dict[str, Any]:
    """Convert the config into a nested dictionary (config values become dictionaries too)."""
    return {field.name: _value_to_dict(getattr(self, field.name)) for field in dataclasses.fields(self)}


def _value_to_dict(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not inspect.isclass(value):
        return _to_dict(value)
    if isinstance(value, dict):
        return {key: _value_to_dict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_value_to_dict(item) for item in value)
    return value


def _validate(self: Any, prefix: str = "") -> list[str]:
    """Check that no field is left :data:`MISSING`.

    Raises:
        TypeError: Naming every missing field (dotted path).

    Returns:
        An empty list when the config is complete.
    """
    missing = _collect_missing(self, prefix)
    if missing:
        raise TypeError(f"Missing values detected in object {type(self).__name__} for the following fields: {missing}")
    return missing


def _collect_missing(value: Any, path: str) -> list[str]:
    if value is MISSING:
        return [path]
    if dataclasses.is_dataclass(value) and not inspect.isclass(value):
        missing = []
        for field in dataclasses.fields(value):
            child_path = f"{path}.{field.name}" if path else field.name
            missing += _collect_missing(getattr(value, field.name), child_path)
        return missing
    if isinstance(value, dict):
        return [m for key, item in value.items() for m in _collect_missing(item, f"{path}.{key}")]
    if isinstance(value, (list, tuple)):
        return [m for i, item in enumerate(value) for m in _collect_missing(item, f"{path}[{i}]")]
    return []
