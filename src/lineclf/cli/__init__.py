"""The `lineclf` command: train, evaluate, predict.

One module per command (:mod:`.train`, :mod:`.evaluate`, :mod:`.predict`),
each a signature over the library and one call; what they share is in
:mod:`.app` and :mod:`.progress`. Heavy modules are imported inside the
commands so that `--help` stays instant.
"""

from __future__ import annotations

from . import evaluate, predict, train  # noqa: F401 -- each registers its command
from .app import app
from .progress import progress_text

__all__ = ["app", "main", "progress_text"]


def main() -> None:
    app()
