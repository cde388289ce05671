"""HTTP delivery of the rag engine (FastAPI): routes only translate and delegate."""
