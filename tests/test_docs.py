"""The README stays true: run and test commands first, every setting and command documented."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.config import PROJECT_DIR, Settings

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "bankbot") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_readme_opens_with_the_run_and_test_commands() -> None:
    first_lines = "\n".join(README.splitlines()[:12])
    assert "make run" in first_lines
    assert "make test" in first_lines


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [f"BOT_{name.upper()}" for name in Settings.model_fields
               if f"BOT_{name.upper()}" not in README]
    assert missing == []


def test_every_cli_command_is_documented_in_the_readme() -> None:
    missing = [command for command in _commands(cli) if command not in README]
    assert missing == []


def test_every_make_target_with_help_is_documented_in_the_readme() -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    targets = [line.split(":")[0] for line in makefile.splitlines() if "## " in line
               and not line.startswith(("#", "\t"))]
    missing = [t for t in targets if f"make {t}" not in README]
    assert missing == []
