"""Package attributes imported on first use (PEP 562), so that importing a
package does not import every module it names."""

from __future__ import annotations

from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """A ``__getattr__`` and ``__dir__`` for ``package``: each name in
    ``exports`` (name -> submodule) is imported from its submodule when first
    asked for and kept in ``namespace`` (the package's globals, whose
    ``__all__`` lists the names)."""

    def __getattr__(name: str):
        if name in exports:
            import importlib

            value = getattr(importlib.import_module(f".{exports[name]}", package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(namespace["__all__"])

    return __getattr__, __dir__
