"""Settings: the only place that reads the environment (variables prefixed RAG_)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.model.backends import EmbeddingBackend, preferred_backend

DEFAULT_MODEL = "google/embeddinggemma-300m"
# The most passages a question or search may ask for (the HTTP schema and the engine read it from here).
MAX_TOP_K = 50
# What fills the title slot of a document without a title (rag.reading.titles).
UntitledContext = Literal["names", "lead", "name", "none"]
# Comma-separated lists in the environment (RAG_API_KEYS=a,b), not JSON.
CommaList = Annotated[tuple[str, ...], NoDecode]
Keys = Annotated[tuple[SecretStr, ...], NoDecode]


def _default_model_dir() -> Path:
    return Path(platformdirs.user_cache_dir("rag")) / "models"


def _default_eval_dir() -> Path:
    return Path(platformdirs.user_cache_dir("rag")) / "eval"


class Settings(BaseSettings):
    """Every tunable of the service; built once at an entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="RAG_", frozen=True)

    index_dir: Path = Field(Path("index"), description="Directory holding index generations.")
    embedding_model: str = Field(DEFAULT_MODEL, description="sentence-transformers model: a name or a local directory.")
    embedding_backend: EmbeddingBackend | None = Field(
        None,
        description="How the model runs: 'torch' (float32), 'torch-bf16', 'torch-int8', or 'onnx' / 'onnx-int8' "
        "(onnxruntime, after 'rag model install' with this set). Unset: the backend the "
        "index was built with, and for a new index of the default model 'onnx-int8' where the CPU has VNNI, else "
        "'torch-bf16' where it has native bfloat16, else 'torch'. "
        "Vectors of different backends never meet: changing it means 'rag reindex'.",
    )
    model_dir: Path = Field(default_factory=_default_model_dir, description="Where 'rag model install' puts models.")
    eval_dir: Path = Field(
        default_factory=_default_eval_dir, description="Where 'rag eval' keeps the indexes of evaluation corpora."
    )
    ranking: Literal["hybrid", "dense", "lexical"] = Field(
        "hybrid", description="Passage ranking: dense + BM25 fused, or either alone (for comparison)."
    )
    host: str = Field("127.0.0.1", description="Address 'rag serve' listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port 'rag serve' listens on.")
    url: str | None = Field(
        None,
        description="A running rag server for 'rag ask' and 'rag search' (default: the one 'rag serve' "
        "recorded in the index directory, if it is up).",
    )
    chunk_size: int = Field(600, ge=50, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(100, ge=0, description="Characters shared by neighbouring chunks.")
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="Passages retrieved per question.")
    max_question_chars: int = Field(1000, ge=1, description="Longest question accepted.")
    abstain_threshold: float | None = Field(
        None,
        description="Below this margin (how far the best sentence stands out from the sentences outside its "
        "passage) the service abstains; unset: the value calibrated for the model (0.04 for EmbeddingGemma).",
    )
    untitled_context: UntitledContext | None = Field(
        None,
        description="What fills the model's title slot for a document without a title: 'names' (the names its "
        "first sentence uses), 'lead' (that sentence), 'name' (its file name as words) or 'none'. Unset: an index "
        "keeps the choice it was built with, a new one gets 'names'.",
    )
    chunk_vectors: Literal["embedded", "sentences"] = Field(
        "embedded",
        description="'embedded': every chunk goes through the model; 'sentences': a chunk's vector is the "
        "length-weighted mean of its sentences' vectors (about half the embedding work; retrieval in untitled "
        "documents suffers).",
    )
    vector_graph_min_rows: int = Field(
        50_000,
        ge=1,
        description="Rows from which a segment's vectors are searched through an HNSW graph instead of exactly "
        "(recall@10 about 0.99; applies to segments written from then on).",
    )
    batch_size: int = Field(16, ge=1, description="Texts per embedding batch (the ONNX backends run each text alone).")
    keep_generations: int = Field(3, ge=1, description="Index generations kept on disk.")
    api_keys: Keys = Field((), description="Bearer keys for every route but GET /health; none: no access control.")
    admin_keys: Keys = Field((), description="Bearer keys required to change documents or the index (if set).")
    max_upload_bytes: int = Field(10_000_000, ge=1, description="Largest request body accepted (413 above).")
    max_document_chars: int = Field(
        5_000_000, ge=1, description="Most characters a document may hold once extracted (decompression bombs)."
    )
    rate_limit: str | None = Field(
        None, description="Requests per client, e.g. '60/minute' (the 'limits' notation); none: unlimited."
    )
    request_timeout: float = Field(30.0, gt=0, description="Seconds a question, search or listing may take (503).")
    cors_origins: CommaList = Field((), description="Origins allowed to call the API from a browser; none: CORS off.")
    generator_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible server (llama.cpp, vLLM, Ollama, a hosted API) that writes "
        "answers in the asker's language, every sentence checked against the passage it cites; none: extractive "
        "answers only.",
    )
    generator_model: str = Field("default", description="The model name sent to the generator.")
    generator_api_key: SecretStr = Field(SecretStr("none"), description="The generator's API key, if it needs one.")
    generator_timeout: float = Field(
        20.0, gt=0, description="Seconds to wait for the generator before giving the extractive answer."
    )
    ray_address: str | None = Field(
        None,
        description="The Ray cluster 'rag reindex' embeds on ('HOST:PORT' of its head, or 'auto': the one started "
        "on this machine); set, it is used without --cluster. Needs the cluster extra.",
    )
    log_format: Literal["text", "json"] = Field("text", description="'json': one JSON object per log line.")

    @property
    def backend_for_new_index(self) -> EmbeddingBackend:
        """The backend set, else the one preferred on this CPU (onnx only for the model whose export was measured)."""
        return self.embedding_backend or preferred_backend(onnx=self.embedding_model == DEFAULT_MODEL)

    @field_validator("api_keys", "admin_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
