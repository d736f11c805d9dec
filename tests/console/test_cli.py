"""bankbot staff add-user and bankbot faq export|import|publish|drafts, through CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import cli
from bot.services import Services


@pytest.fixture
def runner(console_services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(config, "get_settings", lambda: console_services.settings)
    monkeypatch.setattr("bot.cli.get_settings", lambda: console_services.settings)
    return CliRunner()


def test_add_user_prompts_for_the_password_and_refuses_a_weak_one(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["staff", "add-user", "--role", "admin", "boss"],
                           input="a very long password\na very long password\n")
    assert result.exit_code == 0, result.output
    assert "added boss (admin)" in result.output
    weak = runner.invoke(cli, ["staff", "add-user", "--role", "editor", "weak",
                               "--password", "short"])
    assert weak.exit_code != 0 and "at least 12" in weak.output


def test_export_edit_import_and_publish(runner: CliRunner, tmp_path: Path,
                                        console_services: Services) -> None:
    out = tmp_path / "faqs.csv"
    assert runner.invoke(cli, ["faq", "export", "--format", "csv", "-o", str(out)]).exit_code == 0
    text = out.read_text()
    old = console_services.faqs.get_faq(key="age_limit").answer
    out.write_text(text.replace(old, "Sixteen, with a parent's consent."))
    result = runner.invoke(cli, ["faq", "import", "--as", "erin", "--comment", "policy", str(out)])
    assert result.exit_code == 0, result.output
    draft_id = result.output.split()[1].rstrip(":")
    assert f"{draft_id}\terin\tage_limit" in runner.invoke(cli, ["faq", "drafts"]).output
    refused = runner.invoke(cli, ["faq", "publish", "--as", "ed", draft_id])
    assert refused.exit_code != 0 and "not an active reviewer" in refused.output
    own = runner.invoke(cli, ["faq", "publish", "--as", "erin", draft_id])
    assert own.exit_code != 0
    published = runner.invoke(cli, ["faq", "publish", "--as", "rob", draft_id])
    assert published.exit_code == 0, published.output
    assert console_services.faqs.get_faq(key="age_limit").answer == (
        "Sixteen, with a parent's consent.")


def test_import_of_a_broken_file_exits_non_zero_and_writes_nothing(
    runner: CliRunner, tmp_path: Path, console_services: Services
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("faqs:\n  - key: age_limit\n    question: ''\n  - nonsense\n")
    before = runner.invoke(cli, ["faq", "drafts"]).output
    result = runner.invoke(cli, ["faq", "import", "--as", "erin", "--comment", "x", str(broken)])
    assert result.exit_code != 0 and "faq 1" in result.output and "faq 2" in result.output
    assert runner.invoke(cli, ["faq", "drafts"]).output == before
