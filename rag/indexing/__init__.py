"""Writing the index: reindexing folders, building segments from documents, migrating older formats.

It may import rag.storage, rag.reading, rag.model and rag.language, never search or answering.
"""
