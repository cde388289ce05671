"""`rag eval`: answer and retrieval quality through the real engine, the metrics, the corpus files it reads.

It sits above the engine (it drives one), below the CLI.
"""
