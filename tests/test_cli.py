"""The bankbot command line, through click's CliRunner and the real model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import cli
from bot.decision import DECISIONS
from bot.services import Services


@pytest.fixture
def runner(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Return a runner whose commands use the seeded test database."""
    monkeypatch.setattr(config, "get_settings", lambda: services.settings)
    monkeypatch.setattr("bot.cli.get_settings", lambda: services.settings)
    return CliRunner()


def test_ask_json_prints_one_object_per_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "hi", "where is my new card?"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [{"text", "decision", "intent", "faq_key", "confidence"}] * 2
    assert (rows[0]["decision"], rows[0]["intent"]) == ("intent", "greet")
    assert (rows[1]["decision"], rows[1]["faq_key"]) == ("answer", "card_arrival")


def test_ask_reads_many_lines_from_stdin(runner: CliRunner) -> None:
    lines = [f"question number {n} about my card payment" for n in range(1000)]
    result = runner.invoke(cli, ["ask", "--json"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert all(r["decision"] in DECISIONS for r in rows)


def test_faq_seed_leaves_a_populated_database_alone(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["faq", "seed"])
    assert result.exit_code == 0
    assert "left as it is" in result.output


def test_faq_seed_reports_bad_files_without_a_traceback(runner: CliRunner, tmp_path) -> None:
    (tmp_path / "broken.yml").write_text("category: cards\nfaqs:\n  - key: x\n", encoding="utf-8")
    result = runner.invoke(cli, ["faq", "seed", "--replace", str(tmp_path)])
    assert result.exit_code == 1
    assert "question" in result.output and "Traceback" not in result.output


def test_feedback_list_shows_widget_ratings_newest_first(runner: CliRunner,
                                                         services: Services) -> None:
    from bot.feedback import FeedbackStore

    store = FeedbackStore(services.db)
    store.rate_message(conversation_id="cli-1", message_id="m1", message="Answer one",
                       question="q1", rating="up")
    store.rate_message(conversation_id="cli-1", message_id="m2", message="Answer two",
                       question="q2", rating="down")
    result = runner.invoke(cli, ["feedback", "list", "--conversation", "cli-1", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["rating"], r["question"], r["message"]) for r in rows] == [
        ("down", "q2", "Answer two"), ("up", "q1", "Answer one")]
    result = runner.invoke(cli, ["feedback", "list", "--conversation", "cli-1", "--rating", "up"])
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1 and "Answer one" in result.stdout


def test_the_service_refuses_to_start_on_a_database_that_needs_migrating(tmp_path) -> None:
    # Serving an older schema would lose every write to the newer columns, unnoticed.
    import os
    import subprocess
    import sys

    from alembic import command

    from bot.migrate import alembic_config
    from bot.workspace import free_port

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    command.upgrade(alembic_config(url), "0003")
    env = {**os.environ, "BOT_DATABASE_URL": url}
    # Were it to start, it would serve until killed: the timeout fails the test.
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "revision 0003; this version needs 0004" in result.stderr
    assert "bankbot db upgrade" in result.stderr and "Traceback" not in result.stderr
