"""Sentence encoder and the faiss index over FAQ phrasings."""
