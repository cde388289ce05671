"""The `rag` command as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.contract import AskResponse
from rag.reading.documents import default_corpus

RAG = str(Path(sys.executable).with_name("rag"))


def _run(index_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Without RAG_URL the commands answer from this index (a server of a developer's own would answer otherwise).
    env = {**{k: v for k, v in os.environ.items() if k != "RAG_URL"}, "RAG_INDEX_DIR": str(index_dir)}
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=env, timeout=600, check=False)


def test_ask_json_prints_the_http_object(article_index: Path) -> None:
    result = _run(article_index, "ask", "Siapa sutradara film Ballerina?", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert "Lee Chung-hyun" in body["answer"]
    assert set(body) == set(AskResponse.model_fields)
    text = default_corpus()[0].text
    assert all(text[c["start"] : c["end"]] == c["quote"] for c in body["citations"])


def test_ask_prints_answer_and_numbered_sources(article_index: Path) -> None:
    result = _run(article_index, "ask", "Which singer performs a song on the soundtrack?")
    assert result.returncode == 0, result.stderr
    assert "BIBI" in result.stdout
    assert "Sources:" in result.stdout and "[1] (ballerina_id.txt, characters " in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = _run(tmp_path / "none", "ask", "Siapa sutradara?")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no index in {tmp_path / 'none'}; run 'rag reindex' to build one"
    ]


def test_empty_question_is_an_error(article_index: Path) -> None:
    result = _run(article_index, "ask", " ")
    assert result.returncode == 1
    assert "empty" in result.stderr and "Traceback" not in result.stderr


def test_search_and_documents_list_what_is_indexed(article_index: Path) -> None:
    search = _run(article_index, "search", "Netflix", "--top-k", "2")
    assert search.returncode == 0 and len(search.stdout.strip().splitlines()) == 2
    documents = _run(article_index, "documents", "--json")
    assert [d["id"] for d in json.loads(documents.stdout)] == ["ballerina_id.txt"]


def test_reindex_dry_run_writes_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path / "index", "reindex", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["added"] == ["ballerina_id.txt"]
    assert not (tmp_path / "index" / "CURRENT").exists()


@pytest.mark.model
def test_eval_reports_accuracy_abstention_and_per_question_verdicts(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {
            "id": "q1",
            "lang": "id",
            "question": "Siapa sutradara film Ballerina?",
            "answerable": True,
            "answers": [["Lee Chung-hyun"]],
        },
        {
            "id": "q2",
            "lang": "en",
            "question": "Who plays Ok-ju?",
            "answerable": True,
            "answers": [["Jeon Jong-seo", "Jun Jong-seo"]],
        },
        {
            "id": "q3",
            "lang": "en",
            "question": "How long is the film?",
            "answerable": True,
            "answers": [["118 minutes"]],
        },
        {"id": "q4", "lang": "id", "question": "Siapa produser film Ballerina?", "answerable": False, "answers": []},
    ]
    qa.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    env = {**os.environ, "RAG_EVAL_DIR": str(tmp_path / "eval")}
    result = subprocess.run(
        [RAG, "eval", str(qa), "--json", "--per-question"], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overall"]["answer_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["overall"]["abstention_accuracy"] == 1.0
    assert report["by_language"]["id"]["answerable"] == 1
    verdicts = {q["id"]: q["correct"] for q in report["questions"]}
    assert verdicts == {"q1": True, "q2": True, "q3": False, "q4": False}


@pytest.mark.model
def test_eval_indexes_a_corpus_through_files_of_each_form(tmp_path: Path) -> None:
    corpus = tmp_path / "mini" / "corpus.jsonl"
    corpus.parent.mkdir()
    rows = [
        {"_id": "saman", "title": "Tari Saman", "text": "Tari ini berasal dari suku Gayo di Aceh."},
        {"_id": "kecak", "title": "Tari Kecak", "text": "Tari ini berasal dari Bali dan dibawakan puluhan penari."},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    question = {"id": "q1", "question": "Dari mana asal Tari Saman?", "answerable": True, "answers": [["Gayo"]]}
    qa.write_text(json.dumps(question), encoding="utf-8")
    env = {**os.environ, "RAG_EVAL_DIR": str(tmp_path / "eval")}
    for form, suffix in (("md", ".md"), ("txt-title", ".txt"), ("txt", ".txt")):
        result = subprocess.run(
            [RAG, "eval", str(qa), "--corpus", str(corpus), "--files", form, "--json", "--per-question"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["files"] == form
        assert report["overall"]["answer_accuracy"] == 1.0, report["questions"]
        written = sorted(p.name for p in (tmp_path / "eval").glob(f"mini-{form}-[0-9]*/files/mini/*"))
        assert written == [f"kecak{suffix}", f"saman{suffix}"]
    bad = subprocess.run([RAG, "eval", str(qa), "--files", "docx"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "--files must be one of" in bad.stderr


def test_compact_merges_the_segments_of_a_changed_index(tmp_path: Path, article_index: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "saman.txt").write_text("Tari Saman berasal dari suku Gayo di Aceh.", encoding="utf-8")
    assert _run(index_dir, "reindex", str(notes)).returncode == 0
    result = _run(index_dir, "compact")
    assert result.returncode == 0, result.stderr
    assert ": 1 segment(s)" in result.stdout
    listed = _run(index_dir, "documents").stdout
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["ballerina_id.txt", "notes/saman.txt"]
