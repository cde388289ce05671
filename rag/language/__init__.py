"""What the rules know of human languages: sentences, stopwords, tokens and stems, question cues, messages.

The composer, the ranker and the readers ask this package about a text; a new language is added here and
nowhere else. It imports nothing else of rag but errors.
"""
