"""Composing the cited answer from retrieved passages, or abstaining, with the constants calibrated for it.

It may import rag.search and everything below it, never indexing or the engine.
"""
