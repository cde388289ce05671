"""Plain-text tables for `rag eval` reports."""

from __future__ import annotations

from typing import Any

QA_COLUMNS = [
    ("answer_accuracy", "answer acc"),
    ("citation_support", "cite support"),
    ("hit_at_1", "top chunk"),
    ("hit_at_3", "Hit@3"),
    ("mrr", "MRR"),
    ("false_abstention_rate", "false abst"),
    ("abstention_accuracy", "abst acc"),
    ("mean_answer_chars", "chars"),
    ("latency_ms_p50", "p50 ms"),
    ("latency_ms_p95", "p95 ms"),
    ("embed_ms_p50", "embed p50 ms"),
]
GENERATION_COLUMNS = [("generated_share", "generated"), ("dropped_per_answer", "dropped/answer")]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(report: dict[str, Any]) -> str:
    if report["kind"] == "beir":
        names = ["ndcg@10", "recall@10", "recall@100", "mrr@10", "index_seconds", "latency_ms_p50"]
        head = (
            f"{report['dataset']}: {report['documents']} documents as {report['files']} files, "
            f"{report['queries']} queries, {report['ranking']}"
        )
        return head + "\n" + _table(names, [[_cell(report[n]) for n in names]])
    groups = [("all", report["overall"]), *report["by_language"].items()]
    columns = QA_COLUMNS + (GENERATION_COLUMNS if "outcomes" in report else [])
    header = ["set", "n", *[label for _, label in columns]]
    rows = [[name, str(s["questions"]), *[_cell(s[key]) for key, _ in columns]] for name, s in groups]
    text = f"ranking: {report['ranking']}, files: {report.get('files', '-')}\n" + _table(header, rows)
    if "outcomes" in report:
        text += "\noutcomes: " + ", ".join(f"{name} {count}" for name, count in report["outcomes"].items())
    for q in report.get("questions", []):
        verdict = "ok" if (q["correct"] if q["answerable"] else q["abstained"]) else "WRONG"
        text += f"\n{verdict:5} {q['id']} [{q['lang']}] {q['question']}\n      -> {q['answer'][:200]}"
    return text
