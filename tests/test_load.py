"""Load: a bounded burst of questions from another process against a real uvicorn while documents change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.servers import rag_serve

KEY = "load-key"
LOADGEN = Path(__file__).with_name("loadgen.py")
QUESTIONS, CONCURRENCY = 300, 16


def _burst_while_writing(url: str, admin: httpx.Client) -> tuple[dict[str, Any], list[int], set[str], set[str]]:
    """Run the load generator; meanwhile add a document and delete the one added two steps before, in a loop."""
    existed = {admin.get("/health").json()["generation"]}
    command = [sys.executable, str(LOADGEN), url, "--questions", str(QUESTIONS), "--concurrency", str(CONCURRENCY)]
    load = subprocess.Popen([*command, "--key", KEY], stdout=subprocess.PIPE, text=True)
    expected, writes, n = {"ballerina_id.txt"}, [], 0
    while load.poll() is None or n < 4:
        text = f"Catatan {n}: desa {n} punya {n * 3} sumur."
        added = admin.post("/documents", json={"id": f"w{n}", "text": text})
        writes.append(added.status_code)
        existed.add(added.json()["generation"])
        expected.add(f"w{n}")
        if n >= 2:
            removed = admin.delete(f"/documents/w{n - 2}")
            writes.append(removed.status_code)
            existed.add(removed.json()["generation"])
            expected.discard(f"w{n - 2}")
        n += 1
    output, _ = load.communicate(timeout=600)
    report: dict[str, Any] = json.loads(output)
    return report, writes, expected, existed


def test_a_burst_with_concurrent_writes_gets_no_5xx_and_only_real_generations(
    tmp_path: Path, article_index: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_API_KEYS": KEY, "RAG_LOG_FORMAT": "json"}
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        (tmp_path / "server.log").open("w") as log,
        rag_serve(env, output=log) as url,
        httpx.Client(base_url=url, headers=headers, timeout=300) as admin,
    ):
        report, writes, expected, existed = _burst_while_writing(url, admin)
        documents = {d["id"] for d in admin.get("/documents").json()}
        metrics = admin.get("/metrics").text

    lost = expected - documents
    summary = {**report, "writes": len(writes), "write_errors": sum(s != 200 for s in writes), "lost": len(lost)}
    print("\nload:", json.dumps({k: v for k, v in summary.items() if k != "generations"}))
    assert report["server_errors"] == 0 and report["connection_errors"] == 0, report["unexpected"]
    assert report["unexpected"] == []
    assert report["statuses"]["200"] == QUESTIONS - report["hostile"] - report["abandoned"]
    assert set(report["generations"]) <= existed
    assert all(status == 200 for status in writes)
    assert lost == set() and documents == expected
    assert 'route="/ask",status="200"' in metrics

    lines = (tmp_path / "server.log").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "rag.access"]
    assert len(access) >= QUESTIONS - report["abandoned"]
    assert all(e["request_id"] and e["status"] < 500 for e in access)
    assert KEY not in "\n".join(lines)
