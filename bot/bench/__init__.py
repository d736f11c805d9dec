"""`bankbot bench`: speed, time-to-live and memory of the whole assistant, beside stock Rasa."""
