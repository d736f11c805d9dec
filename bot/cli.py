"""The bankbot command line: noun then verb, every option with help."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import click

from bot.config import Settings, get_settings
from bot.errors import BotError
from bot.services import Services


def _services() -> Services:
    return Services(get_settings())


class _Group(click.Group):
    """Turn domain errors into a clear message and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except BotError as exc:
            raise click.ClickException(exc.message) from exc


@click.group(cls=_Group)
@click.option("-v", "--verbose", is_flag=True, help="Log progress and details to stderr.")
def cli(verbose: bool) -> None:
    """Bramblewood Bank's support assistant."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.group(cls=_Group)
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
def db_upgrade(revision: str) -> None:
    """Apply schema migrations to BOT_DATABASE_URL (SQLite under var/ by default)."""
    from bot.migrate import upgrade

    upgrade(get_settings().db_url, revision)
    click.echo(f"database at {revision}")


@cli.group(cls=_Group)
def faq() -> None:
    """Manage FAQ content."""


@faq.command("seed")
@click.option("--replace", is_flag=True, help="Overwrite FAQs that already exist.")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False,
                                                             path_type=Path))
def faq_seed(replace: bool, directory: Path | None) -> None:
    """Load the seed FAQs (data/faq by default) into an empty database."""
    from bot.faq.seed import load_seed

    services = _services()
    entries = load_seed(directory or services.settings.data_dir / "faq")
    if services.faqs.count_faqs() and not replace:
        click.echo("database already has FAQs; left as it is (use --replace to overwrite)")
        return
    written = services.faqs.upsert_faqs(entries)
    click.echo(f"seeded {written} FAQs")


@faq.command("list")
def faq_list() -> None:
    """Print every live FAQ: key, category and question."""
    for entry in _services().faqs.list_faqs():
        click.echo(f"{entry.key}\t{entry.category}\t{entry.question}")


@cli.command()
def train() -> None:
    """Train the router (conversational intents, banking, out of scope) and cache FAQ vectors."""
    from bot.faq.seed import load_seed
    from bot.nlu.router import Router
    from bot.nlu.training_data import router_examples

    services = _services()
    settings = services.settings
    faq_texts = [t for entry in load_seed(settings.data_dir / "faq") for t in entry.texts]
    click.echo("encoding router training data", err=True)
    router = Router.train(router_examples(settings.data_dir, faq_texts), services.embedder,
                          progress=True)
    router.save(settings.router_path)
    click.echo("encoding live FAQs", err=True)
    services.index.refresh(progress=True)
    click.echo(f"router saved to {settings.router_path} ({len(router.labels)} labels)")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.argument("texts", nargs=-1)
def ask(as_json: bool, texts: tuple[str, ...]) -> None:
    """Print the decision for each TEXT, or for each line of standard input."""
    decider = _services().decider
    lines = texts or (line.rstrip("\n") for line in sys.stdin)
    for text in lines:
        decision = decider.decide(text)
        if as_json:
            click.echo(json.dumps(decision.as_row(), ensure_ascii=False))
        else:
            row = decision.as_row()
            label = row["intent"] or row["faq_key"] or "-"
            click.echo(f"{row['decision']}\t{label}\t{row['confidence']:.3f}\t{text}")


@cli.command()
@click.option("--host", help="Listen address (default: BOT_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: BOT_PORT or 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Serve /model/parse for Rasa, the actions webhook and the ticket API."""
    import uvicorn

    from bot.service import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings().model_copy(update=overrides)
    app = create_app(Services(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def _stack_settings(rasa_port: int | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"rasa_port": rasa_port}) if rasa_port else settings


@cli.command()
@click.option("--rasa-port", type=int, help="Rasa's port (default: 5005).")
def run(rasa_port: int | None) -> None:
    """Run the whole assistant: the bot service and Rasa (REST + socketio). Ctrl-C stops both."""
    from bot.stack import Stack, StackError

    stack = Stack(_stack_settings(rasa_port))
    try:
        stack.start()
        click.echo(f"assistant ready: Rasa on {stack.rasa_url}, bot service on "
                   f"{stack.settings.service_url}. Ctrl-C stops both.", err=True)
        code = stack.wait()
        raise click.ClickException(f"a process exited unexpectedly (code {code})")
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        stack.stop()


@cli.command()
@click.option("--rasa-port", type=int, help="Port of the Rasa shell's own server (default: 5005).")
def shell(rasa_port: int | None) -> None:
    """Chat with the full assistant in the terminal (rasa shell against the bot service)."""
    from bot.stack import Stack, StackError, rasa_command, rasa_env

    settings = _stack_settings(rasa_port)
    stack = Stack(settings, log_dir=settings.var_dir / "logs")
    try:
        stack.start_bot()
        subprocess.run(rasa_command(settings, "shell"), cwd=settings.rasa_dir,
                       env=rasa_env(settings), check=False)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
