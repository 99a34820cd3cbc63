"""scripts/speed.py runs end to end on a few corpus pages (skipped where jusText
or the research corpus is not available); its ratios compare the right rows."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, REPO_ROOT, load_script

SCRIPT = REPO_ROOT / "scripts" / "speed.py"


speed = load_script("speed")


def test_ratios():
    speeds = {speed.LINECLF_CORE: 100, speed.LINECLF_BATCH: 90, speed.lineclf_batch_name(2): 170, speed.JUSTEXT: 50, speed.C4_RULE: 1000}
    ratios = dict(speed.ratio_rows(speeds, 2))
    assert ratios[f"{speed.LINECLF_CORE} / {speed.JUSTEXT}"] == 2.0
    assert ratios[f"lineclf predict -j 2 / {speed.LINECLF_BATCH}"] == 1.89
    assert f"lineclf predict -j 3 / {speed.LINECLF_BATCH}" not in dict(speed.ratio_rows(speeds, 3))


def test_speed_script_on_a_few_pages(corpus_dir, model_file, tmp_path, capsys):
    pytest.importorskip("justext", reason="jusText is a benchmark extra: pip install -e '.[bench]'")
    out = tmp_path / "speed.json"
    code = speed.main(["--corpus", str(CORPUS), "--model", str(model_file), "--limit-pages", "3",
                       "--repeat", "1", "--jobs", "1", "--json", str(out)])
    assert code == 0
    payload = json.loads(out.read_text("utf-8"))
    assert payload["pages"] == 3 and payload["lines"] > 0
    assert set(payload["tools"]) == {speed.LINECLF_CORE, speed.LINECLF_ALONE, speed.LINECLF_BATCH, speed.JUSTEXT, speed.C4_RULE}
    assert all(tool["lines_per_second"] > 0 for tool in payload["tools"].values())
    assert list(payload["stages"]) == list(speed.STAGES) and all(s >= 0 for s in payload["stages"].values())
    assert 0 < payload["startup_seconds"] < 60
    printed = capsys.readouterr().out
    assert "| jusText |" in printed and "| second pass (trees) |" in printed
    assert "Start-up: `lineclf predict` on an empty file took" in printed


def test_stage_by_stage_labels_as_the_whole_run(corpus_dir, model_file):
    from lineclf.io import read_labelled_corpus
    from lineclf.model import load_model

    documents = read_labelled_corpus([CORPUS / "gn1"])[:5]
    model = load_model(model_file)
    seconds, labels = speed.lineclf_stages(model, documents)
    assert set(seconds) == set(speed.STAGES)
    speed.check_same_labels(labels, speed.lineclf_core(model, documents))
    with pytest.raises(speed.benchmark.BenchmarkError):
        speed.check_same_labels(labels[:-1], speed.lineclf_core(model, documents))
