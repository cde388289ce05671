"""The embedding model: the Embedder protocol and its adapters, the backends it runs on, ONNX export, installing.

It imports only rag.errors and rag.config; everything else receives an Embedder built from here.
"""
