"""`lineclf review`: the queue, the local server's safety and API, the command.

The page itself is driven in a real browser in test_review_browser.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import SEED_TXT, assert_clean_error, run_cli, write_bytes
from lineclf.errors import DataFormatError, UsageError
from lineclf.io import detect_source, parse_labelled
from lineclf.labels import LABELS
from lineclf.review import TOKEN_HEADER, ReviewServer, review_pages

CRLF_PAGE = b"Menu\r\nHome\r\n\r\nA headline here\r\nThis is a long sentence of body text, and it goes on for a while.\r\nlast line without end"


def make_queue(tmp_path: Path, model, names=("a", "b", "c")):
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    texts = {
        "a": SEED_TXT.read_bytes(),
        "b": CRLF_PAGE,
        "c": b"Home | News | Sport\nA short page\n\nWith two lines of text that a reader reads.\n",
    }
    sources = [detect_source(write_bytes(inputs, f"{name}.txt", texts[name])) for name in names]
    return review_pages(sources, tmp_path / "out", model)


@pytest.fixture
def server(tmp_path, tiny_model):
    server = ReviewServer(make_queue(tmp_path, tiny_model), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method, path, body=None, token=True, host=None, content_type="application/json"):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Host": host or f"127.0.0.1:{server.port}"}
    if token is True:
        headers[TOKEN_HEADER] = server.token
    elif token:
        headers[TOKEN_HEADER] = token
    if body is not None:
        headers["Content-Type"] = content_type
    connection.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


# --------------------------------------------------------------------------- the queue


def test_pages_come_least_certain_first_and_carry_the_model_labels(tmp_path, tiny_model):
    queue = make_queue(tmp_path, tiny_model)
    uncertainty = [page.uncertainty for page in queue.pages]
    assert uncertainty == sorted(uncertainty, reverse=True)
    for page in queue.pages:
        assert page.labels == page.predicted
        assert len(page.labels) == page.document.n_units and not page.done
        expected = 1 - page.proba.max(axis=1)
        assert page.uncertainty == pytest.approx(float(expected.mean()))


def test_a_saved_page_is_written_in_the_labelled_format_byte_for_byte(tmp_path, tiny_model):
    queue = make_queue(tmp_path, tiny_model)
    index = next(i for i, page in enumerate(queue.pages) if page.target.name == "b.tsv")
    page = queue.pages[index]
    labels = ["chrome", "chrome", "headline", "body", "caption"]
    target = queue.save(index, labels)
    assert target == tmp_path / "out" / "b.tsv" and page.done
    written = target.read_bytes()
    assert written == (
        b"chrome\tMenu\r\nchrome\tHome\r\n\r\nheadline\tA headline here\r\n"
        b"body\tThis is a long sentence of body text, and it goes on for a while.\r\ncaption\tlast line without end\n"
    )
    assert parse_labelled(written.decode(), "b.tsv").labels == tuple(labels)
    # nothing else in the folder: no temporary file left behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.tsv"]


def test_a_saved_page_loads_as_saved_and_goes_to_the_end(tmp_path, tiny_model):
    queue = make_queue(tmp_path, tiny_model)
    index = next(i for i, page in enumerate(queue.pages) if page.target.name == "c.tsv")
    labels = ["teaser", "headline", "body"]
    assert labels != queue.pages[index].predicted
    queue.save(index, labels)

    again = make_queue(tmp_path, tiny_model)
    assert [page.target.name for page in again.pages][-1] == "c.tsv"
    resumed = again.pages[-1]
    assert resumed.done and resumed.labels == labels and again.done == 1
    assert again.page_view(len(again.pages) - 1)["done"] is True


def test_a_saved_file_of_another_page_is_refused_not_overwritten(tmp_path, tiny_model):
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / "c.tsv"
    stale.write_text("body\tsomething else entirely\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"c\.tsv: holds another page than .*line 1 differs"):
        make_queue(tmp_path, tiny_model)
    assert stale.read_text(encoding="utf-8") == "body\tsomething else entirely\n"


def test_saving_refuses_wrong_labels_and_writes_nothing(tmp_path, tiny_model):
    queue = make_queue(tmp_path, tiny_model)
    n = queue.pages[0].document.n_units
    with pytest.raises(DataFormatError, match="labels for"):
        queue.save(0, ["body"] * (n + 1))
    with pytest.raises(DataFormatError, match="unknown label 'article'"):
        queue.save(0, ["article"] * n)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not queue.pages[0].done


def test_pages_of_a_jsonl_input_are_saved_one_file_per_record(tmp_path, tiny_model):
    lines = [json.dumps({"id": i, "text": f"Menu\nPage {i} headline\nBody text of page {i}, long enough to read.\n"}) for i in (1, 2)]
    source = detect_source(write_bytes(tmp_path, "crawl.jsonl", ("\n".join(lines) + "\n").encode()))
    queue = review_pages([source], tmp_path / "out", tiny_model)
    assert sorted(page.target.name for page in queue.pages) == ["crawl.1.tsv", "crawl.2.tsv"]


# --------------------------------------------------------------------------- the server


def test_every_request_needs_the_token(server):
    for path in ("/", "/api/queue", "/api/pages/0"):
        assert request(server, "GET", path, token=None)[0] == 403
        assert request(server, "GET", path, token="wrong-token")[0] == 403
    status, body = request(server, "GET", f"/?token={server.token}", token=None)
    assert status == 200 and b"lineclf review" in body
    assert request(server, "POST", "/api/pages/0", body={"labels": []}, token=None)[0] == 403


def test_another_host_name_is_refused_even_with_the_token(server):
    # a page elsewhere reaching 127.0.0.1 through its own domain (DNS rebinding)
    assert request(server, "GET", "/api/queue", host=f"attacker.example:{server.port}")[0] == 403
    assert request(server, "GET", "/api/queue", host=f"localhost:{server.port}")[0] == 200


def test_no_cors_and_no_files_beyond_the_page(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/api/queue", headers={TOKEN_HEADER: server.token, "Origin": "http://attacker.example"})
    response = connection.getresponse()
    response.read()
    assert response.status == 200 and response.getheader("Access-Control-Allow-Origin") is None
    connection.close()
    for path in ("/../../etc/passwd", "/static/review.html", "/api/pages/99", "/api/pages/-1", "/review.html"):
        assert request(server, "GET", path)[0] == 404
    assert request(server, "PUT", "/api/pages/0")[0] == 405
    assert request(server, "OPTIONS", "/api/queue")[0] == 405


def test_the_api_lists_pages_and_saves_one(server):
    status, body = request(server, "GET", "/api/queue")
    queue = json.loads(body)
    assert status == 200 and queue["total"] == 3 and queue["done"] == 0
    assert [entry["id"] for entry in queue["pages"]] == [0, 1, 2]
    page = json.loads(request(server, "GET", "/api/pages/0")[1])
    units = [line for line in page["lines"] if "unit" in line]
    assert page["labels"] == list(LABELS)
    assert all(len(line["proba"]) == 5 and abs(sum(line["proba"]) - 1) < 0.01 for line in units)
    labels = ["chrome"] * len(units)
    status, body = request(server, "POST", "/api/pages/0", body={"labels": labels})
    saved = json.loads(body)
    assert status == 200 and saved["done"] == 1
    assert Path(saved["saved"]).read_text(encoding="utf-8").count("chrome\t") == len(units)


def test_bad_saves_get_400_and_write_nothing(server, tmp_path):
    assert request(server, "POST", "/api/pages/0", body={"labels": ["body"]})[0] == 400
    assert request(server, "POST", "/api/pages/0", body={"label": []})[0] == 400
    assert request(server, "POST", "/api/pages/0", body={"labels": [1, 2]})[0] == 400
    assert request(server, "POST", "/api/pages/0", body={"labels": []}, content_type="text/plain")[0] == 415
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --------------------------------------------------------------------------- the command


def test_review_refuses_missing_input_and_an_out_dir_that_is_a_file(tmp_path):
    result = run_cli("review", tmp_path / "missing.txt", "--out-dir", tmp_path / "out", "--no-browser")
    assert "missing.txt" in assert_clean_error(result, result.exit_code)
    assert result.exit_code in (1, 2)
    not_a_folder = write_bytes(tmp_path, "file", b"x")
    result = run_cli("review", SEED_TXT, "--out-dir", not_a_folder, "--no-browser")
    assert "is a file, not a folder" in assert_clean_error(result, 1)


def test_review_command_serves_until_interrupted(tmp_path, model_file):
    process = subprocess.Popen(
        [sys.executable, "-m", "lineclf", "review", str(SEED_TXT), "--out-dir", str(tmp_path / "out"),
         "--model", str(model_file), "--no-browser"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = None
        for line in process.stderr:
            match = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
            if match:
                url = match
                break
        assert url is not None, "no URL printed"
        connection = http.client.HTTPConnection("127.0.0.1", int(url[1]), timeout=10)
        connection.request("GET", "/api/queue", headers={TOKEN_HEADER: url[2]})
        assert json.loads(connection.getresponse().read())["total"] == 1
        connection.close()
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=30) == 0
        assert "0 of 1 page(s) saved" in rest and "Traceback" not in rest
    finally:
        process.kill()
        process.wait()


def test_review_page_is_shipped_in_the_package():
    from lineclf.review import review_page_html

    html = review_page_html().decode("utf-8")
    assert "X-Lineclf-Token" in html and np.all([label in html for label in LABELS])


def test_review_refuses_a_busy_port_and_undecodable_input(tmp_path, model_file):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("review", SEED_TXT, "--out-dir", tmp_path / "out", "--model", model_file, "--no-browser", "--port", port)
        assert f"cannot listen on 127.0.0.1:{port}" in assert_clean_error(result, 1)
    latin1 = write_bytes(tmp_path, "latin1.txt", "Grüße\n".encode("latin-1"))
    result = run_cli("review", latin1, "--out-dir", tmp_path / "out", "--model", model_file, "--no-browser")
    assert "latin1.txt" in assert_clean_error(result, 1)
