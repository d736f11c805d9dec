"""Rasa input channels of our own; loaded by Rasa (Python 3.10, .venv-rasa), not by bot."""
