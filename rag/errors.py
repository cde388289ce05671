"""The one error hierarchy of the core; each message says how to fix the problem."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the core raises on purpose."""

    code = "rag_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(RagError):
    """The caller asked something malformed (empty question, out-of-range k...)."""

    code = "invalid_input"


class IndexNotFoundError(RagError):
    """No index generation has been built yet."""

    code = "index_not_found"


class IndexIncompatibleError(RagError):
    """The index on disk was built with another model, dimension or format."""

    code = "index_incompatible"


class IndexCorruptError(RagError):
    """An index generation is damaged (missing files, hash mismatch)."""

    code = "index_corrupt"


class ModelNotInstalledError(RagError):
    """The embedding model cannot be found locally."""

    code = "model_not_installed"


class ModelVerificationError(RagError):
    """Assembled model files do not match their pinned size or sha256."""

    code = "model_verification_failed"


class ServerError(RagError):
    """A running rag server that the CLI asked answered with an error, or could not be reached."""

    code = "server_error"


class DocumentError(RagError):
    """A document cannot be read or is not acceptable."""

    code = "document_error"


class DocumentNotFoundError(RagError):
    """No document has the requested id."""

    code = "document_not_found"


class IndexBusyError(RagError):
    """Another process is writing the index."""

    code = "index_busy"


class DocumentConflictError(RagError):
    """A document id that already belongs to a document from another source."""

    code = "document_conflict"


class StorageFullError(RagError):
    """The disk filled up while writing the index; the previous generation stays in service."""

    code = "storage_full"


class ClusterError(RagError):
    """Ray is not installed, no cluster answers at the address given, or a job on the cluster failed."""

    code = "cluster_error"


class GeneratorError(RagError):
    """The answer model failed or answered unusably; the extractive answer is given instead, with the reason.

    `outcome` names what happened (timeout, unreachable, rate_limited, server_error, rejected, invalid_output)
    and is the label counted in rag_generations_total.
    """

    code = "generator_error"

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
