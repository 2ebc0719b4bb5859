"""Storage and retrieval: Chroma for chunks and embeddings, BM25 for words, fused by a LangChain retriever.

Knows nothing of Telegram, HTTP fetching or answer composition; `ingest/` writes through it and `bot/` reads
through it.
"""
