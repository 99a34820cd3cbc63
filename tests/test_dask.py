"""Labelling on a Dask cluster (a LocalCluster of two worker processes): the
output is identical to the single-process run, for --dask-scheduler and for
the dask.bag helpers."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import (
    SAMPLE_TEXTS,
    SEED_TXT,
    jsonl_bytes,
    run_cli,
    sample_records,
    write_bytes,
    write_wet,
)

from lineclf.labelling import predict_files

pytest.importorskip("dask.bag", reason="dask is not installed (pip install -e '.[dask]')")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install -e '.[dask]')")
pytest.importorskip("warcio", reason="WET inputs need warcio (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def cluster():
    # worker processes, as on a real cluster: the model and the pages are
    # pickled to them and the results back
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "crawl"
    records = sample_records(SAMPLE_TEXTS * 20)
    write_bytes(folder, "a.jsonl.gz", gzip.compress(jsonl_bytes(records)))
    write_wet(folder / "b.warc.wet.gz", records[:9])
    write_bytes(folder, "c.txt", SEED_TXT.read_bytes())
    return folder


def test_dask_scheduler_gives_the_single_process_output(model_file, cluster, inputs):
    for args in [("--format", "jsonl"), ("--format", "text")]:
        single = run_cli("predict", inputs, "--model", model_file, *args)
        on_dask = run_cli("predict", inputs, "--model", model_file, *args, "--dask-scheduler", cluster.scheduler_address)
        assert single.exit_code == on_dask.exit_code == 0, on_dask.output
        assert on_dask.stdout_bytes == single.stdout_bytes and single.stdout_bytes


def test_label_bag_of_records_and_of_files(tiny_model, client, inputs):
    import dask.bag as db

    import lineclf.labelling.cluster

    records = sample_records(SAMPLE_TEXTS * 5)
    single = "".join(o.text for o in predict_files([write_bytes(inputs, "d.jsonl", jsonl_bytes(records))], tiny_model))
    bag = db.from_sequence(records, npartitions=3)
    assert "".join(lineclf.labelling.cluster.label_bag(bag, tiny_model).compute(scheduler=client.get)) == single

    files = [inputs / "a.jsonl.gz", inputs / "b.warc.wet.gz", inputs / "c.txt"]
    expected = [o.text for o in predict_files(files, tiny_model, output_format="text")]
    pages = lineclf.labelling.cluster.read_bag(files)
    assert pages.npartitions == 3
    labelled = lineclf.labelling.cluster.label_bag(pages, tiny_model, output_format="text").compute(scheduler=client.get)
    assert labelled == expected
    cleaned = json.loads(labelled[0])
    assert list(cleaned) == ["id", "url", "lang", "text"]


def test_label_bag_raises_the_page_error(tiny_model, client):
    import dask.bag as db

    import lineclf.labelling.cluster
    from lineclf.errors import DataFormatError

    bag = db.from_sequence([{"text": "fine\n"}, {"no text": 1}], npartitions=1)
    with pytest.raises(DataFormatError, match="record 2: no 'text' field"):
        lineclf.labelling.cluster.label_bag(bag, tiny_model).compute(scheduler=client.get)


def test_unreachable_scheduler_is_one_line(model_file, inputs, monkeypatch):
    import socket

    import lineclf.labelling.cluster

    monkeypatch.setattr(lineclf.labelling.cluster, "CONNECT_TIMEOUT_SECONDS", 1)
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    result = run_cli("predict", inputs, "--model", model_file, "--dask-scheduler", address)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"lineclf: error: {address}: cannot reach the Dask scheduler: ")
