"""Running an exported model (rag.model.onnx_model) with onnxruntime: the encoder of the onnx backends."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class OnnxEncoder:
    """An exported model behind the part of SentenceTransformer's interface the embedder uses.

    One onnxruntime thread per call, and as many calls at once as the process may use cores: a text run alone
    does not keep two threads busy. On 2 cores, 120 TyDi passages: 13.9 texts/s with two one-thread calls at
    once against 8.4 with one two-thread call; a question takes 31 ms either way, and the vectors are the same
    to the bit (`bench/actor_layout.py` compares the same layouts as processes).
    """

    def __init__(self, model_folder: Path, graph: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3  # its warnings about the graph are for whoever exported it
        # InferenceSession.run may be called from several threads at once; it releases the GIL while it runs.
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        # Made once: the indexer calls encode for every batch of texts.
        self._pool = ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="onnx-run")
        settings = json.loads((model_folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = settings.get("prompts", {})
        limits = json.loads((model_folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        # The tokenizer library itself, not transformers' wrapper: the same ids (the install's probes check the
        # vectors), loaded in 1.2 s instead of 3.9, and no torch or transformers import on this path.
        self._tokenizer = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(limits["max_seq_length"]))
        self._dimension = int(self._session.get_outputs()[0].shape[-1])

    def get_embedding_dimension(self) -> int:
        return self._dimension

    def _run(self, ids: list[int]) -> Vectors:
        row = np.asarray([ids], dtype=np.int64)
        vector: Vectors = self._session.run(None, {"input_ids": row, "attention_mask": np.ones_like(row)})[0][0]
        return vector

    def encode(self, texts: Sequence[str], *, prompt_name: str | None = None, **_: Any) -> Vectors:
        """One vector per text; `prompt_name` prefixes one of the model's prompts.

        Each text runs through the model alone: int8 quantizes a call's activations with one scale, so in a
        batch a text's vector depended on the texts beside it (cosine 0.992 at worst against the passage alone).
        Alone nothing is padded either, which is faster for passages (96 TyDi passages: 7.5-8.2 documents/s
        alone, 6.2-6.8 in batches of 16).
        """
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch([prefix + text for text in texts])]
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        # A lone text (a question) runs on the asking thread, so concurrent questions use the cores in parallel.
        rows = [self._run(ids[0])] if len(ids) == 1 else self._pool.map(self._run, ids)
        for n, vector in enumerate(rows):
            vectors[n] = vector
        return vectors

    def encode_query(self, texts: Sequence[str], **options: Any) -> Vectors:
        return self.encode(texts, prompt_name="query", **options)

    def encode_document(self, texts: Sequence[str], **options: Any) -> Vectors:
        return self.encode(texts, prompt_name="document", **options)
