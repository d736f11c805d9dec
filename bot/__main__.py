"""python -m bot → the bankbot command line."""

from bot.cli import cli

cli()
