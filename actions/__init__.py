"""Custom Rasa actions, served by the bot service at /webhook."""
