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
from bot.evaluation.tuning import RESTARTS
from bot.search.tune import TuneConfig, use_portable_kernels
from bot.services import Services

# Before any command imports torch: tuning then gives the same weights on any machine.
use_portable_kernels()

# Seconds the bot service keeps an idle connection open. Rasa's clients (its NLU session and
# custom-action calls, channels/action_client.py) close theirs after 15 s: were the server
# first (uvicorn's default is 5 s), a message could go out on a connection it was closing.
KEEP_ALIVE_SECONDS = 30


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
    """Load the seed FAQs (by default data/faq and data/faq_added) into an empty database."""
    from bot.faq.seed import load_seed, load_shipped

    services = _services()
    entries = load_seed(directory) if directory else load_shipped(services.settings.data_dir)
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


@faq.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "yaml"]), default="yaml",
              show_default=True, help="File format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def faq_export(fmt: str, output: Path | None) -> None:
    """Write every FAQ, live and retired, as CSV or YAML."""
    from bot.faq.review import ReviewStore
    from bot.faq.transfer import export_faqs

    text = export_faqs([r.version for r in ReviewStore(_services().db).list_records()], fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@faq.command("import")
@click.option("--as", "author", required=True, help="Staff username recorded as the author.")
@click.option("--comment", required=True, help="Why: kept in the history.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def faq_import(author: str, comment: str, path: Path) -> None:
    """Check a CSV or YAML file as a whole and save its changes as one draft for review."""
    from bot.faq.review import ReviewStore
    from bot.faq.transfer import parse_import

    services = _services()
    _staff_store(services).get_user(username=author)
    fmt = "csv" if path.suffix.lower() == ".csv" else "yaml"
    reviews = ReviewStore(services.db)
    changes = parse_import(path.read_text(encoding="utf-8-sig"), fmt,
                           live=[r.version for r in reviews.list_records()])
    if not changes:
        click.echo("the file matches the live FAQs: nothing to import")
        return
    draft = reviews.create_draft(changes=changes, author=author, comment=comment, kind="import")
    click.echo(f"draft {draft.id}: {len(changes)} FAQ(s) waiting for review")


@faq.command("publish")
@click.option("--as", "reviewer", required=True,
              help="Staff username of the reviewer (not the draft's author).")
@click.argument("draft_id", type=int)
def faq_publish(reviewer: str, draft_id: int) -> None:
    """Publish a pending draft; running services pick it up within a second."""
    from bot.faq.review import ReviewStore
    from bot.staff.accounts import REVIEWER

    services = _services()
    user = _staff_store(services).get_user(username=reviewer)
    if not user.active or not user.can(REVIEWER):
        raise click.ClickException(f"{reviewer} is not an active reviewer or admin")
    result = ReviewStore(services.db).publish_draft(draft_id=draft_id, reviewer=reviewer)
    click.echo(f"published draft {draft_id}: {', '.join(result.draft.keys)}")


@faq.command("drafts")
def faq_drafts() -> None:
    """Print the drafts waiting for review: id, author, FAQs and why."""
    from bot.faq.review import ReviewStore

    for draft in ReviewStore(_services().db).list_drafts():
        click.echo(f"{draft.id}\t{draft.author}\t{','.join(draft.keys)}\t{draft.comment}")


def _staff_store(services: Services):  # type: ignore[no-untyped-def]
    from bot.staff.accounts import AccountStore

    return AccountStore.for_settings(services.db, services.settings)


@cli.group(cls=_Group)
def staff() -> None:
    """Manage staff console accounts."""


@staff.command("add-user")
@click.option("--role", type=click.Choice(["editor", "reviewer", "admin"]), required=True,
              help="editor writes drafts; reviewer also publishes; admin also manages users.")
@click.password_option(help="The password (prompted, hidden, when not given).")
@click.argument("username")
def staff_add_user(role: str, password: str, username: str) -> None:
    """Create a staff console user, e.g. the first admin."""
    user = _staff_store(_services()).add_user(username=username, password=password, role=role)
    click.echo(f"added {user.username} ({user.role})")


@cli.command()
def train() -> None:
    """Train the router (conversational intents, banking, out of scope) and cache FAQ vectors."""
    from bot.faq.seed import load_learnt
    from bot.nlu.router import Router

    services = _services()
    settings = services.settings
    click.echo("encoding router training data", err=True)
    router = Router.train_for_faqs(settings.data_dir, load_learnt(settings.data_dir),
                                   services.embedder, progress=True)
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

    from bot.migrate import require_current_schema
    from bot.service import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings().model_copy(update=overrides)
    require_current_schema(settings.db_url)
    app = create_app(Services(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                timeout_keep_alive=KEEP_ALIVE_SECONDS)


def _stack_settings(rasa_port: int | None) -> Settings:
    from bot.migrate import require_current_schema

    settings = get_settings()
    require_current_schema(settings.db_url)  # before starting anything
    return settings.model_copy(update={"rasa_port": rasa_port}) if rasa_port else settings


@cli.command()
@click.option("--rasa-port", type=int, help="Rasa's port (default: 5005).")
def run(rasa_port: int | None) -> None:
    """Run the whole assistant: the bot service and Rasa (REST + socketio). Ctrl-C or SIGTERM
    stops both."""
    from bot.stack import Stack, StackError, stop_on_signals

    stop_on_signals()
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
    from bot.stack import Stack, StackError, rasa_command, rasa_env, stop_on_signals

    stop_on_signals()
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


@cli.command()
@click.option("--epochs", type=int, default=TuneConfig.epochs, show_default=True,
              help="Passes over the FAQ phrasings.")
@click.option("--batch-size", type=int, default=TuneConfig.batch_size, show_default=True,
              help="FAQs per batch (one phrasing pair each).")
@click.option("--learning-rate", type=float, default=TuneConfig.learning_rate, show_default=True,
              help="AdamW peak learning rate.")
@click.option("--soup", type=click.IntRange(min=1), default=TuneConfig.soup, show_default=True,
              help="Runs with different seeds, averaged weight by weight into the saved encoder.")
@click.option("--restarts", type=click.IntRange(min=1), default=RESTARTS, show_default=True,
              help="Runs with successive seeds; the one with the best held-out top-1 is kept.")
@click.option("--negatives", type=click.IntRange(min=0), default=TuneConfig.negatives_per_batch,
              show_default=True,
              help="Non-banking questions (data/router/out_of_scope.txt) per batch, as "
                   "negatives; 0 tunes on the FAQ phrasings alone.")
@click.option("--holdout", type=click.FloatRange(0, 0.5, min_open=True), default=0.1,
              show_default=True,
              help="Share of each FAQ's alternates kept out of tuning, for validation and "
                   "`bankbot fit-thresholds`.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where to save the tuned encoder (default: var/model-tuned).")
def tune(epochs: int, batch_size: int, learning_rate: float, soup: int, restarts: int,
         negatives: int, holdout: float, out: Path | None) -> None:
    """Fine-tune the encoder on the seed FAQ phrasings; then rerun `bankbot train`."""
    from bot.evaluation.tuning import run_tune

    settings = get_settings()
    config = TuneConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                        soup=soup, negatives_per_batch=negatives)
    report = run_tune(settings, config, holdout=holdout, out=out or settings.tuned_model_dir,
                      restarts=restarts)
    click.echo(report)


@cli.command("eval")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for eval.json, eval.md and the figures.")
@click.option("--diet-epochs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also train Rasa 3.6's stock NLU pipeline (count vectors + DIET) for this many "
                   "epochs on the same BANKING77 train data and report it beside ours (about "
                   "75 s an epoch on 2 cores). 0 skips it and keeps the last figure if the "
                   "training data is unchanged.")
def eval_(out: Path, diet_epochs: int) -> None:
    """Measure the assistant on BANKING77 and the OOS sets (BOT_DATASETS_DIR); write a report."""
    from bot.evaluation import diet
    from bot.evaluation.benchmark import Bench, run_benchmarks
    from bot.evaluation.report import write_report

    services = _services()
    if not services.settings.datasets_dir.is_dir():
        raise click.ClickException(f"no data sets at {services.settings.datasets_dir} "
                                   "(set BOT_DATASETS_DIR)")
    bench = Bench(services.settings, services.embedder, services.router)
    report = run_benchmarks(bench)
    stock = (diet.diet_benchmark(services.settings, epochs=diet_epochs) if diet_epochs
             else diet.previous_result(out / "eval.json", services.settings))
    if stock:
        report["banking77_diet"] = stock
    for path in write_report(report, out):
        click.echo(f"wrote {path}", err=True)
    b77 = report["banking77"]
    click.echo(f"BANKING77 test top-1 {b77['top1_accuracy']:.2%}, macro-F1 {b77['macro_f1']:.2%}, "
               f"answered wrong {b77['decisions']['answered_wrong']:.2%}")
    if stock:
        click.echo(f"stock Rasa (DIET, {stock['epochs']} epochs, trained in "
                   f"{stock['train_seconds']:.0f} s, measured {stock['when']}): top-1 "
                   f"{stock['top1_accuracy']:.2%}, macro-F1 {stock['macro_f1']:.2%}")


@cli.command("fit-thresholds")
@click.option("--dry-run", is_flag=True, help="Print the fitted values without writing the file.")
def fit_thresholds(dry_run: bool) -> None:
    """Fit bot/thresholds.yml on train/valid data (held-out FAQ phrasings, CLINC150 val)."""
    from bot.config import PROJECT_DIR, THRESHOLDS_FILE
    from bot.evaluation.fitting import MAX_WRONG, fit, write_thresholds

    services = _services()
    values, report = fit(services.settings, services.embedder)
    click.echo(json.dumps({"thresholds": values, "validation": report}, indent=2))
    if not report["wrong_answers_under_cap"]:
        raise click.ClickException(f"no thresholds keep wrong answers under {MAX_WRONG:.1%}")
    if not dry_run:
        model = services.embedder.model_path
        shown = model.relative_to(PROJECT_DIR) if model.is_relative_to(PROJECT_DIR) else model
        write_thresholds(THRESHOLDS_FILE, values, report, str(shown),
                         services.embedder.weights_sha256)
        click.echo(f"wrote {THRESHOLDS_FILE}", err=True)


@cli.command()
@click.option("--queries", default=1000, show_default=True,
              help="BANKING77 test queries timed one at a time.")
@click.option("--messages", default=320, show_default=True,
              help="Messages sent per end-to-end load run.")
@click.option("--runs", default=3, show_default=True, help="Repetitions of each measurement.")
@click.option("--stock/--no-stock", default=True, show_default=True,
              help="Also measure a stock Rasa assistant (default pipeline) side by side.")
@click.option("--stock-epochs", default=5, show_default=True,
              help="DIET and ResponseSelector epochs for stock Rasa.")
@click.option("--stock-examples", default=10, show_default=True,
              help="Training examples per FAQ for stock Rasa.")
@click.option("--rate", "rates", type=float, multiple=True, default=[45.0], show_default=True,
              help="Messages per second sent whatever the pace of the replies (open loop); "
                   "repeat for several.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Where to write bench.json, bench.md and the plot.")
def bench(queries: int, messages: int, runs: int, stock: bool, stock_epochs: int,
          stock_examples: int, rates: tuple[float, ...], out: Path) -> None:
    """Measure latency, throughput, edit-to-live, cold start and memory (and stock Rasa)."""
    from bot.bench.report import write_reports
    from bot.bench.run import BenchConfig, run_bench

    config = BenchConfig(queries=queries, messages_per_load=messages, runs=runs, stock=stock,
                         stock_epochs=stock_epochs, stock_examples_per_faq=stock_examples,
                         rates=tuple(rates))
    report = run_bench(get_settings(), config, lambda line: click.echo(line, err=True))
    click.echo(f"wrote {write_reports(report, out)}")


@cli.group(cls=_Group)
def feedback() -> None:
    """Read customers' ratings of the assistant's answers (the chat widget's 👍/👎)."""


@feedback.command("list")
@click.option("--rating", type=click.Choice(["up", "down"]), help="Only ratings of this kind.")
@click.option("--conversation", help="Only this conversation (the widget's session id).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most recent ratings shown.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def feedback_list(rating: str | None, conversation: str | None, limit: int, as_json: bool) -> None:
    """Print ratings, newest first: time, rating, conversation, question and rated answer."""
    from bot.feedback import FeedbackStore

    rows = FeedbackStore(_services().db).list_feedback(
        conversation_id=conversation, rating=rating, limit=limit)
    for row in rows:
        if as_json:
            click.echo(json.dumps({
                "conversation_id": row.conversation_id, "message_id": row.message_id,
                "rating": row.rating, "question": row.question, "message": row.message,
                "updated_at": row.updated_at.isoformat()}, ensure_ascii=False))
        else:
            click.echo(f"{row.updated_at:%Y-%m-%d %H:%M}\t{row.rating}\t{row.conversation_id}\t"
                       f"{row.question}\t{row.message}")
