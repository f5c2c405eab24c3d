"""Lazy exports of a package from its ``.pyi`` stub, as Isaac Lab's packages declare them."""

from __future__ import annotations

import os
import sys

import lazy_loader


def lazy_export() -> None:
    """Export the names the calling package's ``__init__.pyi`` stub imports, loading each submodule on first use.

    The stub is the one list of a package's public names: a name is added to the package by naming it in the stub
    (``from .module import Name``). Call it from the package's ``__init__.py``.

    Raises:
        FileNotFoundError: If the calling package has no ``.pyi`` stub beside its ``__init__.py``.
    """
    caller_globals = sys._getframe(1).f_globals
    stub_file = f"{os.path.splitext(caller_globals['__file__'])[0]}.pyi"
    if not os.path.isfile(stub_file):
        raise FileNotFoundError(f"Package '{caller_globals['__name__']}' has no stub '{stub_file}' to export from.")
    getattr_, dir_, all_ = lazy_loader.attach_stub(caller_globals["__name__"], caller_globals["__file__"])
    caller_globals.update(__getattr__=getattr_, __dir__=dir_, __all__=all_)
