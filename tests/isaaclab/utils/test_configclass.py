"""Tests of the configclass decorator."""

import dataclasses

import pytest

from isaaclab.utils import MISSING, configclass


@configclass
class InnerCfg:
    gain: float = 1.0
    names: list = ["a", "b"]


@configclass
class OuterCfg:
    inner = InnerCfg()
    limits: dict = {"low": -1.0, "high": 1.0}
    count = 3
    required: int = MISSING


@configclass
class ChildCfg(OuterCfg):
    count = 5
    extra = InnerCfg(gain=2.0)


def test_unannotated_attributes_become_fields():
    names = [field.name for field in dataclasses.fields(OuterCfg)]
    assert names == ["inner", "limits", "count", "required"]
    assert OuterCfg().count == 3


def test_mutable_defaults_are_per_instance_copies():
    first, second = OuterCfg(), OuterCfg()
    first.inner.names.append("c")
    first.limits["low"] = -5.0
    assert second.inner.names == ["a", "b"]
    assert second.limits["low"] == -1.0
    assert first.inner is not second.inner


def test_subclass_overrides_defaults_and_adds_fields():
    child = ChildCfg()
    assert child.count == 5
    assert child.extra.gain == 2.0
    assert child.inner.gain == 1.0
    assert isinstance(child, OuterCfg)


def test_missing_fields_build_and_validate_names_them():
    cfg = OuterCfg()
    assert cfg.required is MISSING
    with pytest.raises(TypeError, match="required"):
        cfg.validate()
    assert OuterCfg(required=1).validate() == []


def test_replace_to_dict_and_copy():
    cfg = OuterCfg(required=2)
    changed = cfg.replace(count=7)
    assert changed.count == 7 and cfg.count == 3
    assert cfg.to_dict() == {
        "inner": {"gain": 1.0, "names": ["a", "b"]},
        "limits": {"low": -1.0, "high": 1.0},
        "count": 3,
        "required": 2,
    }
    copied = cfg.copy()
    copied.inner.gain = 9.0
    assert cfg.inner.gain == 1.0


def test_methods_properties_and_class_values_are_not_fields():
    @configclass
    class WithBehaviour:
        handler_class = dict
        value: int = 1

        @property
        def doubled(self) -> int:
            return 2 * self.value

        def triple(self) -> int:
            return 3 * self.value

    names = [field.name for field in dataclasses.fields(WithBehaviour)]
    assert names == ["value"]
    assert WithBehaviour().doubled == 2 and WithBehaviour().triple() == 3
