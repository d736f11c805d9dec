"""Bramblewood Bank's support assistant: the small-model FAQ service behind Rasa."""
