"""The `lineclf` command: train, evaluate, predict, review.

One module per command (:mod:`.train`, :mod:`.evaluate`, :mod:`.predict`, :mod:`.review`),
each a signature over the library and one call; what they share is in
:mod:`.app` and :mod:`.progress`. Heavy modules are imported inside the
commands so that `--help` stays instant.
"""

from __future__ import annotations

# each registers its command; `lineclf --help` lists them in this order
from . import train  # noqa: F401, I001
from . import evaluate  # noqa: F401
from . import predict  # noqa: F401
from . import review  # noqa: F401
from .app import app
from .progress import progress_text

__all__ = ["app", "main", "progress_text"]


def main() -> None:
    app()
