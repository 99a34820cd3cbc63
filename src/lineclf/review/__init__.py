"""Correcting predicted labels in the browser: `lineclf review`.

- :mod:`.queue`: the pages under review (least certain first), the labels
  set so far, saving each page to a labelled file;
- :mod:`.server`: the local web server (127.0.0.1, a random token) and its
  JSON API, serving the page in ``static/review.html``.
"""

from __future__ import annotations

from .queue import UNSURE_BELOW, ReviewPage, ReviewQueue, review_pages
from .server import HOST, TOKEN_HEADER, ReviewServer, review_page_html

__all__ = [
    "HOST",
    "TOKEN_HEADER",
    "UNSURE_BELOW",
    "ReviewPage",
    "ReviewQueue",
    "ReviewServer",
    "review_page_html",
    "review_pages",
]
