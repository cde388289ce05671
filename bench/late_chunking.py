"""Late chunking screened for answer-sentence vectors: one forward pass per chunk instead of one per sentence.

A sentence's "late" vector pools the chunk's token embeddings over the sentence's tokens (optionally with the
prompt's) and runs them through the model's Dense layers, so every sentence is seen in its chunk's context
for the cost of the chunk alone. The screen: for each answerable question, whether the sentence of the gold
document closest to the question holds the answer, with sentences embedded alone (what the index does), late,
or the sum of both. The article's dev set and TyDi as titled and as untitled documents.

Usage: python bench/late_chunking.py [--documents N] (TyDi documents; all by default)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rag.config import Settings
from rag.evaluation.metrics import holds
from rag.indexing.segment_builder import answer_units
from rag.model.embedding import TITLE_SLOT, SentenceTransformerEmbedder, Vectors
from rag.reading.chunking import Chunker
from rag.reading.documents import Document, Span, default_corpus
from rag.reading.titles import slot_title
from rag.storage.vector_cache import VectorCache, embed_with_cache

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TYDI = SHARED / "external" / "tydiqa_goldp_id" / "derived"
VARIANTS = ("alone", "late", "late+prompt", "alone+late")


def late_vectors(
    embedder: SentenceTransformerEmbedder, chunker: Chunker, document: Document, title: str, units: list[Span]
) -> dict[str, dict[int, Vectors]]:
    """For each late variant, unit position -> vector, for the units some chunk holds whole."""
    model = embedder._load()
    prefix = model.prompts["document"].replace(TITLE_SLOT, f"title: {title or 'none'} |")
    found: dict[str, dict[int, Vectors]] = {"late": {}, "late+prompt": {}}
    for chunk in chunker.split(document):
        encoded = model.tokenizer([prefix + chunk.text], return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].numpy()
        prompt = offsets[:, 1] <= len(prefix)
        shift = len(prefix) - chunk.start
        with torch.inference_mode():
            states = model[0](dict(encoded))["token_embeddings"][0]
            for n, unit in enumerate(units):
                if n in found["late"] or unit.start < chunk.start or unit.end > chunk.end:
                    continue
                inside = (offsets[:, 0] < unit.end + shift) & (offsets[:, 1] > unit.start + shift)
                for variant, mask in (("late", inside), ("late+prompt", inside | prompt)):
                    pooled = states[torch.from_numpy(mask)].float().mean(0, keepdim=True).to(states.dtype)
                    vector = model[3](model[2]({"sentence_embedding": pooled}))["sentence_embedding"][0]
                    found[variant][n] = vector.float().numpy() / float(vector.float().norm())
    return found


def screen(
    embedder: SentenceTransformerEmbedder,
    cache: VectorCache,
    chunker: Chunker,
    items: list[tuple[Document, list[dict[str, object]]]],
) -> tuple[int, dict[str, float]]:
    hits = dict.fromkeys(VARIANTS, 0)
    asked = 0
    for document, questions in items:
        title = slot_title(document.title, document.text, document.id, untitled="lead")
        units = answer_units(document)
        alone, _ = embed_with_cache(embedder, cache, [(title, unit.text) for unit in units])
        late = late_vectors(embedder, chunker, document, title, units)
        vectors = {"alone": alone}
        for variant, own in late.items():
            vectors[variant] = np.array([own.get(n, alone[n]) for n in range(len(units))])
        vectors["alone+late"] = alone + vectors["late"]
        for question in questions:
            answers = question["answers"]
            holding = [holds(unit.text, answers) for unit in units]  # type: ignore[arg-type]
            if not question.get("answerable", True) or not any(holding):
                continue
            asked += 1
            query = embedder.embed_queries([str(question["question"])])[0]
            for variant in VARIANTS:
                hits[variant] += holding[int(np.argmax(vectors[variant] @ query))]
    return asked, {variant: round(hits[variant] / max(asked, 1), 3) for variant in VARIANTS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, help="TyDi documents to use (all by default)")
    args = parser.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    cache = VectorCache(settings.eval_dir / "embeddings.sqlite")
    chunker = Chunker(size=settings.chunk_size, overlap=settings.chunk_overlap)
    print(f"model {embedder.model_name}; share of questions whose closest gold-document sentence holds the answer")
    print("set | questions | " + " | ".join(VARIANTS))
    article = default_corpus()[0]
    dev = [json.loads(line) for line in (SHARED / "ballerina_qa_dev.jsonl").read_text().splitlines()]
    sets = {f"article dev ({lang})": [(article, [q for q in dev if q["lang"] == lang])] for lang in ("id", "en")}
    rows = {row["_id"]: row for row in map(json.loads, (TYDI / "corpus.jsonl").read_text().splitlines())}
    by_document: dict[str, list[dict[str, object]]] = {}
    for line in (TYDI / "qa_dev.jsonl").read_text().splitlines():
        question = json.loads(line)
        by_document.setdefault(question["doc_id"], []).append(question)
    chosen = list(by_document.items())[: args.documents]
    for titled in (True, False):
        sets[f"TyDi {'titled' if titled else 'untitled'}"] = [
            (Document(doc_id, rows[doc_id]["title"] if titled else "", rows[doc_id]["text"]), questions)
            for doc_id, questions in chosen
        ]
    for name, items in sets.items():
        asked, rates = screen(embedder, cache, chunker, items)
        print(f"{name} | {asked} | " + " | ".join(f"{rates[v]:.3f}" for v in VARIANTS), flush=True)


if __name__ == "__main__":
    main()
