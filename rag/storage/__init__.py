"""The index on disk: immutable segments, the generation a manifest lists and its commit protocol, compaction,
the postings and vectors segments hold, the vector cache and the record of indexed roots.

It may import rag.reading, rag.model and rag.language (the values it stores), never search or answering:
the format does not know how it is queried.
"""
