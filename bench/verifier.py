"""The verifier of generated sentences on labelled pairs: share of unsupported pairs rejected, supported kept.

Pairs are built from QA rows whose answer lies in a passage (the dev article's questions, TyDi GoldP):
the span is the passage sentence holding the answer. Supported claims: the span itself, its longest clause,
and the fact restated by a template in the question's language ("The answer to 'Q' is A." for an English
question over Indonesian text). Unsupported: a number changed, a name swapped for another name of the
same document, a negation added, a sentence of another document, a true sentence of the same document
cited to the wrong span, and the template with another question's answer.
Prints, per language and kind, how many pairs the verifier keeps; with --sweep, the same per threshold.

Usage: python bench/verifier.py ../shared/data/external/tydiqa_goldp_id/derived/qa_dev.jsonl \
         ../shared/data/external/tydiqa_goldp_multi/en/derived/qa_dev.jsonl --article --limit 100 [--sweep]
"""

from __future__ import annotations

import argparse
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from rag.answering.verification import SUPPORT_MIN, Claim, Verifier
from rag.config import Settings
from rag.evaluation.corpus_files import read_jsonl
from rag.language.claims import names
from rag.language.sentences import split_sentences
from rag.model.embedding import SentenceTransformerEmbedder
from rag.reading.documents import default_corpus

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TEMPLATE = {"en": "The answer to the question '{q}' is {a}.", "id": "Jawaban atas pertanyaan '{q}' adalah {a}."}
NEGATE = {"en": "It is not true that {s}", "id": "Tidak benar bahwa {s}"}


def _sentence_at(text: str, offset: int) -> str | None:
    for start, end in split_sentences(text):
        if start <= offset < end:
            return text[start:end]
    return None


def _rows(paths: list[Path], article: bool, limit: int) -> list[dict[str, str]]:
    """(lang, question, answer, span, doc, context) rows whose answer sits in one sentence."""
    rows: list[dict[str, str]] = []
    for path in paths:
        taken = 0
        for q in read_jsonl(path):
            if not q.get("answer_starts") or taken == limit:
                continue
            context, answer = str(q["context"]), str(q["answers"][0][0])
            span = _sentence_at(context, int(q["answer_starts"][0]))
            if span and answer in span:
                lang = "en" if str(q["lang"]) == "en" else "id" if str(q["lang"]) == "id" else str(q["lang"])
                rows.append(
                    {
                        "lang": lang,
                        "question": str(q["question"]),
                        "answer": answer,
                        "span": span,
                        "doc": str(q["doc_id"]),
                        "context": context,
                        "title": str(q.get("title", "")),
                    }
                )
                taken += 1
    if article:
        text = default_corpus()[0].text
        for q in read_jsonl(SHARED / "ballerina_qa_dev.jsonl"):
            if not q["answerable"]:
                continue
            answer = next((a for a in q["answers"][0] if a in text), None)
            span = _sentence_at(text, text.find(answer)) if answer else None
            if span and answer:
                rows.append(
                    {
                        "lang": f"article-{q['lang']}",
                        "question": str(q["question"]),
                        "answer": answer,
                        "span": span,
                        "doc": "article",
                        "context": text,
                        "title": default_corpus()[0].label,
                    }
                )
    return rows


def _pairs(rows: list[dict[str, str]], rng: random.Random) -> list[tuple[str, str, bool, Claim]]:
    """(language, kind, supported, claim) for every pair the rows allow."""
    pairs = []
    for row in rows:
        lang, span, title = row["lang"], row["span"], row["title"]
        template_lang = "en" if lang.endswith("en") else "id"
        pairs.append((lang, "span itself", True, Claim(span, span, title)))
        clause = max(re.split(r"[,;]\s+", span), key=len)
        if clause != span and len(clause) >= 30:
            pairs.append((lang, "its clause", True, Claim(clause, span, title)))
        restated = TEMPLATE[template_lang].format(q=row["question"].rstrip(" ?"), a=row["answer"])
        pairs.append((lang, "template restatement", True, Claim(restated, span, title)))
        others = [r for r in rows if r["doc"] != row["doc"] and r["answer"] not in span]
        if others:
            other = rng.choice(others)
            wrong = TEMPLATE[template_lang].format(q=row["question"].rstrip(" ?"), a=other["answer"])
            pairs.append((lang, "template, other answer", False, Claim(wrong, span, title)))
            pairs.append((lang, "sentence of another document", False, Claim(other["span"], span, title)))
        number = re.search(r"\d+", span)
        if number:
            changed = span[: number.start()] + str(int(number.group()) + 3) + span[number.end() :]
            pairs.append((lang, "number changed", False, Claim(changed, span, title)))
        document_names = sorted(names(row["context"]) - names(span) - names(f"x {title}"))
        in_span = [m for m in re.finditer(r"[^\W\d_][\w\-]*", span) if m.group().casefold() in names(span)]
        if document_names and in_span:
            target = rng.choice(in_span)
            swapped = span[: target.start()] + rng.choice(document_names).title() + span[target.end() :]
            pairs.append((lang, "name swapped", False, Claim(swapped, span, title)))
        negated = NEGATE[template_lang].format(s=span[0].lower() + span[1:])
        pairs.append((lang, "negation added", False, Claim(negated, span, title)))
        neighbours = [text for s, e in split_sentences(row["context"]) if (text := row["context"][s:e]) != span]
        neighbours = [n for n in neighbours if len(n) >= 30 and row["answer"] not in n]
        if neighbours:
            pairs.append((lang, "true sentence, wrong span", False, Claim(rng.choice(neighbours), span, title)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", type=Path, nargs="*")
    parser.add_argument("--article", action="store_true", help="Add the dev questions over the bundled article.")
    parser.add_argument("--limit", type=int, default=100, help="Rows per QA file.")
    parser.add_argument("--sweep", action="store_true", help="Print the kept shares per threshold too.")
    args = parser.parse_args()
    pairs = _pairs(_rows(args.qa, args.article, args.limit), random.Random(0))
    embedder = SentenceTransformerEmbedder.from_settings(Settings())
    verifier = Verifier(embedder)
    claims = [claim for _, _, _, claim in pairs]
    verdicts = verifier.check(claims)
    similarities = np.array([v.similarity for v in verdicts])
    passes_rules = np.array([not v.by_rule for v in verdicts])
    groups: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    for i, (lang, kind, supported, _) in enumerate(pairs):
        groups[(lang, kind, supported)].append(i)
    thresholds = sorted({0.5, 0.55, 0.6, 0.62, 0.65, 0.68, 0.7, SUPPORT_MIN}) if args.sweep else [SUPPORT_MIN]
    print(f"{len(pairs)} pairs; kept = passes the hard rules and agreement >= threshold")
    print(f"{'language':<12} {'kind':<30} {'label':<12} {'n':>4} " + " ".join(f"{t:>6.2f}" for t in thresholds))
    for (lang, kind, supported), rows in sorted(groups.items(), key=lambda g: (g[0][0], not g[0][2], g[0][1])):
        kept = [float(np.mean(passes_rules[rows] & (similarities[rows] >= t))) for t in thresholds]
        label = "supported" if supported else "unsupported"
        print(f"{lang:<12} {kind:<30} {label:<12} {len(rows):>4} " + " ".join(f"{k:>6.3f}" for k in kept))
    print("\nper language at the shipping threshold: supported kept / unsupported rejected")
    for lang in sorted({p[0] for p in pairs}):
        keep = [i for i, p in enumerate(pairs) if p[0] == lang and p[2]]
        reject = [i for i, p in enumerate(pairs) if p[0] == lang and not p[2]]
        kept = float(np.mean(passes_rules[keep] & (similarities[keep] >= SUPPORT_MIN)))
        rejected = 1 - float(np.mean(passes_rules[reject] & (similarities[reject] >= SUPPORT_MIN)))
        print(
            f"{lang:<12} supported kept {kept:.3f} ({len(keep)})   unsupported rejected {rejected:.3f} ({len(reject)})"
        )


if __name__ == "__main__":
    main()
