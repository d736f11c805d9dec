"""The benchmark's own pieces: statistics and the stock Rasa project it trains."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from aiohttp import web

from bot.bench import stock_rasa
from bot.bench.load import LoadResult, run_rate_load
from bot.bench.run import (
    BenchConfig,
    latency_by_decision,
    measure_long_conversation,
    percentiles,
    pooled,
    spread,
)
from bot.config import PROJECT_DIR, Settings
from bot.faq.store import FaqEntry
from bot.stack import RASA_QUIET_ENV
from bot.workspace import free_port
from tests.conftest import run_coroutine


def test_percentiles_are_reported_in_milliseconds() -> None:
    seconds = [n / 1000 for n in range(1, 101)]  # 1 ms .. 100 ms
    result = percentiles(seconds)
    assert result["p50_ms"] == 50.5
    assert 95 <= result["p95_ms"] <= 96
    assert 99 <= result["p99_ms"] <= 100


def test_spread_gives_min_median_max_and_run_count() -> None:
    assert spread([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0, "runs": 3}


def test_pooled_runs_add_up_messages_errors_and_time() -> None:
    runs = [LoadResult(8, [0.01] * 10, errors=1, wall=0.5, texts=["a"] * 10),
            LoadResult(8, [0.03] * 10, errors=0, wall=1.5, texts=["b"] * 10)]
    result = pooled(runs)
    assert (result["messages"], result["errors"], result["messages_per_s"]) == (21, 1, 10.0)
    assert result["p50_ms"] == 20.0
    assert result["messages_per_s_per_run"] == {"min": 6.7, "median": 13.35, "max": 20.0,
                                                "runs": 2}


def test_latency_by_decision_names_the_kind_of_turn_that_makes_the_tail() -> None:
    # 17 answers and one message nobody decided at 10 ms, escalations at 100 and 200 ms: the
    # p95 of all 20 turns is 105 ms.
    runs = [LoadResult(8, [0.01] * 9 + [0.1], texts=["a"] * 9 + ["e1"]),
            LoadResult(8, [0.01] * 8 + [0.2, 0.01], texts=["a"] * 8 + ["e2", "new"])]
    result = latency_by_decision(runs, {"a": "answer", "e1": "escalate", "e2": "escalate"})
    assert result["answer"]["turns"] == 17 and result["answer"]["p50_ms"] == 10.0
    assert result["escalate"] == {"turns": 2, "p50_ms": 150.0, "p95_ms": 195.0, "p99_ms": 199.0,
                                  "above_overall_p95": 1}
    assert result["unknown"]["turns"] == 1
    assert result["answer"]["above_overall_p95"] == 0


def test_retrain_estimate_scales_measured_epochs_to_the_full_data() -> None:
    estimate = stock_rasa.RetrainEstimate(overhead_s=20, per_epoch_s=2, full_examples=10_000,
                                          measured_examples=1_000, full_epochs=100)
    assert estimate.estimate_s == 20 + 2 * 10 * 100


def test_stock_rasa_project_covers_every_faq_and_passes_rasa_validation(tmp_path: Path) -> None:
    faqs = [FaqEntry(key=f"faq_{n}", category="cards", question=f"Question {n}?",
                     answer=f"Answer {n}.", alternates=tuple(f"phrase {n} {m}" for m in range(20)))
            for n in range(3)]
    examples = stock_rasa.write_project(tmp_path, faqs, PROJECT_DIR / "data" / "nlu.yml",
                                        epochs=1, examples_per_faq=5)
    domain = yaml.safe_load((tmp_path / "domain.yml").read_text())
    assert {f"utter_faq/faq_{n}" for n in range(3)} <= set(domain["responses"])
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text())["nlu"]
    faq_blocks = [b for b in nlu if b["intent"].startswith("faq/")]
    assert [b["examples"].count("\n- ") + 1 for b in faq_blocks] == [5, 5, 5]
    assert examples > 15
    settings = Settings()
    validate = subprocess.run(
        [str(settings.rasa_venv / "bin" / "rasa"), "data", "validate", "--fail-on-warnings"],
        cwd=tmp_path, env={**RASA_QUIET_ENV, "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=300, check=False)
    assert validate.returncode == 0, validate.stdout[-2000:]


def test_open_loop_sends_on_time_however_slow_the_replies() -> None:
    """20 messages at 40/s to a real server that takes 0.3 s a reply: all are out in about
    0.5 s and answered in about 0.8 s; waiting for each reply first would take 6 s."""
    seen: list[tuple[str, str]] = []

    async def reply(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((body["sender"], body["message"]))
        await asyncio.sleep(0.3)
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])

    async def main() -> LoadResult:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", reply)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await run_rate_load(f"http://127.0.0.1:{port}",
                                       [f"m{n}" for n in range(20)], rate=40, conversations=4)
        finally:
            await runner.cleanup()

    result = run_coroutine(main())
    assert (len(result.latencies), result.errors) == (20, 0)
    assert result.wall < 2.0
    assert sorted(Counter(sender for sender, _ in seen).values()) == [5, 5, 5, 5]
    assert sorted(result.texts) == sorted(f"m{n}" for n in range(20))  # each latency's message
    assert result.summary()["offered_per_s"] == 40


def test_long_conversation_repeats_its_first_messages_at_its_end_in_one_conversation() -> None:
    seen: list[tuple[str, str]] = []

    class Rasa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((body["sender"], body["message"]))
            reply = json.dumps([{"text": "ok"}]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = measure_long_conversation(
            f"http://127.0.0.1:{server.server_port}", [f"m{n}" for n in range(100)],
            BenchConfig(long_turns=30, long_block=10), {"rasa": os.getpid()}, lambda _: None)
    finally:
        server.shutdown()
    assert len({sender for sender, _ in seen}) == 1
    messages = [message for _, message in seen]
    assert len(messages) == 30 and messages[:10] == messages[20:] == [f"m{n}" for n in range(10)]
    assert (result["first"]["turns"], result["last"]["turns"]) == ("1-10", "21-30")
    assert set(result["last"]["cpu_ms_per_turn"]) == {"rasa"}
