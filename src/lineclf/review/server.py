"""The review page's local web server (standard library only).

Safe on a shared machine: it listens on 127.0.0.1 only; every request must
carry the session's random token (``?token=`` in the page's URL, the
``X-Lineclf-Token`` header on the page's own API calls), else 403; a
``Host`` other than this address is refused too (a web page elsewhere
cannot reach the server through a name that resolves to 127.0.0.1); there
are no CORS headers. The only file it serves is the page shipped in the
package; the only files it writes are the queue's labelled files.

API (JSON):

- ``GET /api/queue``: the pages in review order, with progress;
- ``GET /api/pages/<n>``: one page's lines, labels and probabilities;
- ``POST /api/pages/<n>`` ``{"labels": [...]}``: save that page (marks it done).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from ..errors import LineclfError, OutputError
from .queue import ReviewQueue

logger = logging.getLogger(__name__)

#: Only this address is listened on.
HOST = "127.0.0.1"
TOKEN_HEADER = "X-Lineclf-Token"
#: A saved page's request body may be at most this large (labels of a page of 100,000 lines fit).
MAX_BODY_BYTES = 2_000_000
_PAGE_PATH = re.compile(r"^/api/pages/(\d{1,9})$")


def review_page_html() -> bytes:
    """The review page shipped in the package."""
    return resources.files("lineclf.review").joinpath("static", "review.html").read_bytes()


class ReviewServer(ThreadingHTTPServer):
    """Serves one :class:`ReviewQueue` on 127.0.0.1 with a random token."""

    daemon_threads = True

    def __init__(self, queue: ReviewQueue, port: int = 0, token: str | None = None):
        self.queue = queue
        self.token = token or secrets.token_urlsafe(24)
        self.html = review_page_html()
        # one save at a time: two tabs saving the same page must not interleave
        self.lock = threading.Lock()
        try:
            super().__init__((HOST, port), ReviewHandler)
        except OSError as exc:
            raise OutputError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?token={self.token}"


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "lineclf-review"
    sys_version = ""

    # ------------------------------------------------------------------ checks

    def _allowed(self) -> bool:
        """The request names this server as its host and carries the token."""
        host = self.headers.get("Host", "")
        if host not in (f"{HOST}:{self.server.port}", f"localhost:{self.server.port}"):
            return False
        given = self.headers.get(TOKEN_HEADER)
        if given is None:
            given = (parse_qs(urlsplit(self.path).query).get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.server.token.encode())

    # ------------------------------------------------------------------ replies

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")  # the token is in the page's URL
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, payload) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": message})

    # ------------------------------------------------------------------ methods

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if not self._allowed():
            return self._error(HTTPStatus.FORBIDDEN, "forbidden: this URL needs the token lineclf review printed")
        path = urlsplit(self.path).path
        queue = self.server.queue
        if path == "/":
            return self._send(HTTPStatus.OK, self.server.html, "text/html; charset=utf-8")
        if path == "/api/queue":
            return self._json(HTTPStatus.OK, {"pages": queue.summary(), "done": queue.done, "total": len(queue.pages)})
        match = _PAGE_PATH.match(path)
        if match and int(match[1]) < len(queue.pages):
            return self._json(HTTPStatus.OK, queue.page_view(int(match[1])))
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self) -> None:  # noqa: N802
        if not self._allowed():
            return self._error(HTTPStatus.FORBIDDEN, "forbidden: this URL needs the token lineclf review printed")
        match = _PAGE_PATH.match(urlsplit(self.path).path)
        queue = self.server.queue
        if not match or int(match[1]) >= len(queue.pages):
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the labels as application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length needed")
        if not 0 <= length <= MAX_BODY_BYTES:
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        try:
            labels = json.loads(self.rfile.read(length).decode("utf-8"))["labels"]
            if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._error(HTTPStatus.BAD_REQUEST, 'expected {"labels": ["body", ...]}')
        try:
            with self.server.lock:
                target = queue.save(int(match[1]), labels)
        except LineclfError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        self._json(HTTPStatus.OK, {"saved": str(target), "done": queue.done, "total": len(queue.pages)})

    def do_PUT(self) -> None:  # noqa: N802
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        # requests carry the token: log the path without the query
        logger.debug("%s %s", self.command, urlsplit(self.path).path)
