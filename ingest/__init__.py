"""Ingest: turn files, pages and feeds into clean articles, chunk them, embed them and write them to the store."""
