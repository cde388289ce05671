"""Reading files into documents: parsing formats, titles, where documents come from, chunking with exact offsets.

A new file format goes here. It may import rag.language (sentences, title rules) and rag.errors.
"""
