"""Understanding a message: Rasa payload syntax and the intent/domain router."""
