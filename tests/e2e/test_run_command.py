"""`bankbot run` as an operator starts and stops it."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

import psutil
import pytest

from bot.bench.run import RunningAssistant
from bot.workspace import free_port
from tests.conftest import seeded_settings

pytestmark = pytest.mark.e2e


def test_sigterm_stops_both_processes_even_when_started_in_the_background(
        tmp_path: Path) -> None:
    # A shell starts background jobs (`bankbot run &`, nohup) with SIGINT ignored; a service
    # manager stops with SIGTERM. Either way nothing may be left running on the ports.
    settings = seeded_settings(tmp_path / "var", port=free_port(), rasa_port=free_port())
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited, as from a shell
    try:
        assistant = RunningAssistant(settings, tmp_path / "run.log")
    finally:
        signal.signal(signal.SIGINT, previous)
    children: list[psutil.Process] = []
    try:
        assistant.first_answer_seconds(time.perf_counter())
        children = [psutil.Process(pid) for pid in assistant.pids().values()]
        assert len(children) == 2
        assistant.process.send_signal(signal.SIGTERM)
        assert assistant.process.wait(60) == 0
        _gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == []
    finally:
        if assistant.process.poll() is None:
            assistant.process.kill()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
