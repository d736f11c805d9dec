"""The benchmark itself: brain, end to end, edit-to-live, cold start, memory, stock Rasa."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bot.bench import stock_rasa
from bot.bench.load import LoadResult, run_load, run_rate_load
from bot.bench.memory import PeakRss, cpu_ms_per, cpu_seconds
from bot.config import Settings
from bot.db import Database
from bot.faq.review import ReviewStore
from bot.faq.seed import load_shipped
from bot.services import Services
from bot.stack import RASA_QUIET_ENV, bot_env
from bot.workspace import free_port, seeded_workspace

logger = logging.getLogger(__name__)

# The FAQ edited to time edit-to-live, and a question that reaches it.
EDITED_FAQ = "card_arrival"
EDITED_FAQ_QUESTION = "My new card hasn't arrived yet. Where is it?"  # the FAQ's own question


@dataclass(frozen=True)
class BenchConfig:
    """What to run; defaults keep one full run within about ten minutes on 2 cores."""

    queries: int = 1000
    concurrency: tuple[int, ...] = (1, 8, 32)
    messages_per_load: int = 320
    runs: int = 3
    edits: int = 5
    stock: bool = True
    stock_epochs: int = 5
    stock_examples_per_faq: int = 10
    # Open-loop rates (messages/s), each for rate_seconds: 45/s is the anchor's rate (a
    # community load test of stock Rasa: 370 ms p95 at 45 requests/s).
    rates: tuple[float, ...] = (45.0,)
    rate_seconds: float = 20.0
    # One long conversation: its first and last `long_block` turns send the same messages,
    # so the two compare what a turn costs early and late in a conversation.
    long_turns: int = 300
    long_block: int = 50

    def texts_needed(self) -> int:
        """Return how many benchmark texts the longest measurement sends."""
        return max(self.queries, self.messages_per_load, self.long_turns - self.long_block,
                   *(int(rate * self.rate_seconds) for rate in self.rates))


def percentiles(seconds: list[float]) -> dict[str, float]:
    """Return p50/p95/p99 in milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in (50, 95, 99)}


def spread(values: list[float]) -> dict[str, float]:
    """Return min/median/max of repeated measurements."""
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def benchmark_texts(settings: Settings, count: int) -> list[str]:
    """Return BANKING77 test queries (speed only: no model or threshold is chosen on them)."""
    path = settings.datasets_dir / "banking77" / "test.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    return (texts * (count // len(texts) + 1))[:count]


def measure_brain(services: Services, texts: list[str], runs: int,
                  progress: Callable[[str], None]) -> dict[str, Any]:
    """Time the decision for one message at a time, warm, then in batches."""
    decider = services.decider
    decider.decide("warm up")
    per_message: list[float] = []
    run_p95 = []
    for run in range(runs):
        progress(f"brain: run {run + 1}/{runs}, {len(texts)} messages one at a time")
        latencies = []
        for text in texts:
            started = time.perf_counter()
            decider.decide(text)
            latencies.append(time.perf_counter() - started)
        per_message.extend(latencies)
        run_p95.append(percentiles(latencies)["p95_ms"])
    batch_rates = []
    for run in range(runs):
        progress(f"brain: run {run + 1}/{runs}, batches of 64")
        started = time.perf_counter()
        decider.decide_many(texts, batch_size=64)
        batch_rates.append(len(texts) / (time.perf_counter() - started))
    return {
        "messages": len(texts),
        "latency": percentiles(per_message),
        "p95_ms_per_run": spread(run_p95),
        "batch_messages_per_s": spread(batch_rates),
        "latencies_ms": [round(s * 1000, 3) for s in per_message[: len(texts)]],
    }


def _ask(rasa_url: str, sender: str, text: str) -> list[str]:
    response = httpx.post(f"{rasa_url}/webhooks/rest/webhook",
                          json={"sender": sender, "message": text}, timeout=30)
    response.raise_for_status()
    return [m.get("text", "") for m in response.json()]


class RunningAssistant:
    """`bankbot run` as a child process, the way an operator starts it."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.rasa_url = f"http://127.0.0.1:{settings.rasa_port}"
        self._log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--rasa-port", str(settings.rasa_port)],
            env={**bot_env(settings), **RASA_QUIET_ENV}, stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def first_answer_seconds(self, started: float, timeout: float = 300) -> float:
        """Wait for the first answered message; return seconds since started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bankbot run exited with {self.process.returncode}")
            try:
                if any(_ask(self.rasa_url, "cold-start", EDITED_FAQ_QUESTION)):
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the assistant did not answer within the time-out")

    def pids(self) -> dict[str, int]:
        """Return the pid of the bot service and of Rasa."""
        import psutil

        found = {}
        for child in psutil.Process(self.process.pid).children(recursive=False):
            cmdline = " ".join(child.cmdline())
            found["rasa" if "rasa" in cmdline and " run" in cmdline else "bot_service"] = child.pid
        return found

    def stop(self) -> None:
        """Stop both processes as a service manager would."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def measure_loads(rasa_url: str, texts: list[str], config: BenchConfig,
                  progress: Callable[[str], None], pids: dict[str, int] | None = None,
                  decisions: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the load at each concurrency `runs` times; return summaries and all latencies.

    With pids, also the CPU milliseconds each process (and this load client) spent per message;
    with decisions (each text's), the latency of each kind of decision.
    """
    results: dict[str, Any] = {}
    processes = {**(pids or {}), "load_client": os.getpid()}
    for concurrency in config.concurrency:
        runs: list[LoadResult] = []
        before = cpu_seconds(processes)
        for run in range(config.runs):
            progress(f"end to end: {concurrency} conversations, run {run + 1}/{config.runs}")
            runs.append(asyncio.run(run_load(rasa_url, texts[: config.messages_per_load],
                                             concurrency=concurrency)))
        after = cpu_seconds(processes)
        sent = sum(len(r.latencies) + r.errors for r in runs)
        results[str(concurrency)] = {
            **pooled(runs),
            "latencies_ms": [round(s * 1000, 3) for s in runs[-1].latencies],
            "cpu_ms_per_message": cpu_ms_per(before, after, sent),
        }
        if decisions is not None:
            results[str(concurrency)]["by_decision"] = latency_by_decision(runs, decisions)
    return results


def latency_by_decision(runs: list[LoadResult], decisions: dict[str, str]) -> dict[str, Any]:
    """Return, for each decision, its turns, their p50/p95 and how many of the turns slower
    than the p95 of all turns were of it: which kind of turn makes the tail."""
    seconds = [s for r in runs for s in r.latencies]
    if not seconds:
        return {}
    kinds = [decisions.get(t, "unknown") for r in runs for t in r.texts]
    tail = float(np.percentile(seconds, 95))
    grouped: dict[str, list[float]] = {}
    for kind, s in zip(kinds, seconds):
        grouped.setdefault(kind, []).append(s)
    return {kind: {"turns": len(values), **percentiles(values),
                   "above_overall_p95": sum(s > tail for s in values)}
            for kind, values in sorted(grouped.items())}


def pooled(runs: list[LoadResult]) -> dict[str, Any]:
    """Return the summary of repeated load runs pooled, with the spread of p95 and msg/s."""
    summaries = [r.summary() for r in runs]
    first = runs[0]
    together = LoadResult(first.concurrency, [s for r in runs for s in r.latencies],
                          errors=sum(r.errors for r in runs), wall=sum(r.wall for r in runs),
                          rate=first.rate)
    return {
        **together.summary(),
        "p95_ms_per_run": spread([s["p95_ms"] for s in summaries]),
        "messages_per_s_per_run": spread([s["messages_per_s"] for s in summaries]),
    }


def measure_rates(rasa_url: str, texts: list[str], config: BenchConfig,
                  progress: Callable[[str], None]) -> dict[str, Any]:
    """Send messages at each fixed rate (open loop) `runs` times; return pooled summaries."""
    results: dict[str, Any] = {}
    for rate in config.rates:
        runs = []
        for run in range(config.runs):
            progress(f"open loop: {rate:g} messages/s, run {run + 1}/{config.runs}")
            runs.append(asyncio.run(run_rate_load(
                rasa_url, texts[: int(rate * config.rate_seconds)], rate=rate)))
        results[f"{rate:g}"] = pooled(runs)
    return results


def measure_long_conversation(rasa_url: str, texts: list[str], config: BenchConfig,
                              pids: dict[str, int],
                              progress: Callable[[str], None]) -> dict[str, Any]:
    """Send one conversation's turns one at a time; return the latency and the CPU each
    process spent per turn over its first and its last `long_block` turns (the same messages)."""
    block, turns = config.long_block, config.long_turns
    messages = texts[: turns - block] + texts[:block]
    sender = f"bench-long-{uuid.uuid4().hex[:12]}"
    progress(f"long conversation: {turns} turns")
    blocks: dict[str, Any] = {}
    with httpx.Client(timeout=30) as client:
        for name, start, end in (("first", 0, block), (None, block, turns - block),
                                 ("last", turns - block, turns)):
            before, latencies = cpu_seconds(pids), []
            for text in messages[start:end]:
                started = time.perf_counter()
                client.post(f"{rasa_url}/webhooks/rest/webhook",
                            json={"sender": sender, "message": text}).raise_for_status()
                latencies.append(time.perf_counter() - started)
            after = cpu_seconds(pids)
            if name is not None:
                blocks[name] = {"turns": f"{start + 1}-{end}", **percentiles(latencies),
                                "cpu_ms_per_turn": cpu_ms_per(before, after, block)}
    return {"turns": turns, **blocks}


def measure_edit_to_live(settings: Settings, rasa_url: str, edits: int,
                         progress: Callable[[str], None]) -> dict[str, Any]:
    """Publish an answer change as staff do (draft, then a reviewer publishes); time until
    Rasa answers with the new text. The clock starts when the publish is committed."""
    db = Database(settings.db_url)
    reviews = ReviewStore(db)
    seconds = []
    try:
        for edit in range(edits):
            progress(f"edit to live: edit {edit + 1}/{edits}")
            current = reviews.get_record(key=EDITED_FAQ).version
            new_answer = f"{current.answer.split(' (Updated')[0]} (Updated {uuid.uuid4().hex[:8]}.)"
            draft = reviews.create_draft(
                changes=[replace(current, answer=new_answer)], author="bench-editor",
                comment="benchmark: time from publish to live")
            started = time.perf_counter()
            reviews.publish_draft(draft_id=draft.id, reviewer="bench-reviewer")
            sender = f"edit-{uuid.uuid4().hex[:8]}"
            while new_answer not in _ask(rasa_url, sender, EDITED_FAQ_QUESTION):
                if time.perf_counter() - started > 60:
                    raise RuntimeError("the edit did not go live within 60 s")
                time.sleep(0.02)
            seconds.append(time.perf_counter() - started)
    finally:
        db.dispose()
    return {"seconds": [round(s, 3) for s in seconds], **spread(seconds)}


def measure_stock_rasa(settings: Settings, root: Path, texts: list[str], config: BenchConfig,
                       progress: Callable[[str], None]) -> dict[str, Any]:
    """Train and load-test stock Rasa over the same FAQs; estimate its full retrain time."""
    faqs = load_shipped(settings.data_dir)
    full_examples = sum(len(f.texts) for f in faqs)
    timings = {}
    for epochs in sorted({1, config.stock_epochs}):
        directory = root / f"stock-{epochs}"
        progress(f"stock Rasa: training with {epochs} epoch(s)")
        examples = stock_rasa.write_project(
            directory, faqs, settings.data_dir / "nlu.yml", epochs=epochs,
            examples_per_faq=config.stock_examples_per_faq)
        timings[epochs] = stock_rasa.train(settings, directory, root / "stock-train.log")
    per_epoch = (timings[config.stock_epochs] - timings[1]) / max(config.stock_epochs - 1, 1)
    estimate = stock_rasa.RetrainEstimate(
        overhead_s=max(timings[1] - per_epoch, 0.0), per_epoch_s=per_epoch,
        full_examples=full_examples, measured_examples=examples, full_epochs=100)
    port = free_port()
    process = stock_rasa.start(settings, root / f"stock-{config.stock_epochs}", port,
                               root / "stock-run.log")
    try:
        with PeakRss({"stock_rasa": process.pid}) as memory:
            loads = measure_loads(f"http://127.0.0.1:{port}", texts, config, progress,
                                  {"stock_rasa": process.pid})
            open_loop = measure_rates(f"http://127.0.0.1:{port}", texts, config, progress)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    return {
        "pipeline": "Rasa 3.6 default: count vectors (word + char_wb 1-4), DIETClassifier, "
                    "ResponseSelector; RulePolicy",
        "epochs": config.stock_epochs,
        "examples_per_faq": config.stock_examples_per_faq,
        "training_examples": examples,
        "train_seconds_measured": {str(k): round(v, 1) for k, v in timings.items()},
        "retrain_full_data_100_epochs_estimate_s": round(estimate.estimate_s, 1),
        "per_epoch_s_measured_subset": round(per_epoch, 2),
        "full_training_examples": full_examples,
        "end_to_end": loads,
        "open_loop": open_loop,
        "peak_rss_mb": {k: round(v, 1) for k, v in memory.peak_mb.items()},
    }


def run_bench(settings: Settings, config: BenchConfig,
              progress: Callable[[str], None]) -> dict[str, Any]:
    """Run every measurement; return the report as a dict."""
    texts = benchmark_texts(settings, config.texts_needed())
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
        "texts": "BANKING77 test.csv queries (speed only; nothing is fitted on them)",
    }
    with tempfile.TemporaryDirectory(prefix="bankbot-bench-") as tmp:
        root = Path(tmp)
        bench_settings = seeded_workspace(settings.var_dir, root / "var", port=free_port(),
                                          rasa_port=free_port())
        services = Services(bench_settings)
        report["brain"] = measure_brain(services, texts[: config.queries], config.runs, progress)
        # What the service will decide for each load message: same code, model and FAQs.
        loaded = texts[: config.messages_per_load]
        decisions = {t: d.decision for t, d in zip(loaded, services.decider.decide_many(loaded))}
        services.db.dispose()

        cold = []
        for run in range(config.runs):
            progress(f"cold start: run {run + 1}/{config.runs}")
            started = time.perf_counter()
            assistant = RunningAssistant(bench_settings, root / "run.log")
            try:
                cold.append(assistant.first_answer_seconds(started))
            finally:
                if run < config.runs - 1:
                    assistant.stop()
        report["cold_start_s"] = spread(cold)
        try:
            pids = assistant.pids()
            with PeakRss(pids) as memory:
                report["end_to_end"] = measure_loads(assistant.rasa_url, texts, config, progress,
                                                     pids, decisions)
                report["open_loop"] = measure_rates(assistant.rasa_url, texts, config, progress)
                report["long_conversation"] = measure_long_conversation(
                    assistant.rasa_url, texts, config, pids, progress)
            report["peak_rss_mb"] = {k: round(v, 1) for k, v in memory.peak_mb.items()}
            report["peak_rss_mb"]["total"] = round(sum(memory.peak_mb.values()), 1)
            report["edit_to_live_s"] = measure_edit_to_live(bench_settings, assistant.rasa_url,
                                                            config.edits, progress)
        finally:
            assistant.stop()
        if config.stock:
            report["stock_rasa"] = measure_stock_rasa(bench_settings, root, texts, config,
                                                      progress)
    return report
