"""Finding passages: dense vectors and BM25 over a generation, fused, each chunk raised by its best sentence.

A new ranking signal goes here. It may import rag.storage, rag.reading, rag.model and rag.language.
"""
