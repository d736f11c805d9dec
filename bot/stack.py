"""Starts and stops the whole assistant: the bot service and the Rasa server.

`bankbot run`, `bankbot shell` and the end-to-end tests all use this, so the way
the processes are started is decided here once.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
from pydantic import SecretStr

from bot.config import Settings

# Rasa and TensorFlow are chatty at start-up; these keep its log readable.
RASA_QUIET_ENV = {
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "RASA_TELEMETRY_ENABLED": "false",
}


def stop_on_signals() -> None:
    """Make Ctrl-C and a service manager's SIGTERM both raise KeyboardInterrupt, so that the
    caller's `finally` stops the child processes instead of leaving them running.

    SIGINT is re-armed as well: a shell starts background jobs (`&`, nohup) with it ignored,
    and Python then never raises KeyboardInterrupt, so `kill -INT` did nothing. (The children
    install their own SIGINT handlers, so `_terminate` reaches them either way.)
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def link_trained_artifacts(source_var: Path, var_dir: Path) -> Path:
    """Make var_dir share source_var's trained router and embedding cache (tests, benchmarks)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    for name in ("router.joblib", "embeddings", "model-tuned", "encoder-onnx"):
        if (source_var / name).exists() and not (var_dir / name).exists():
            (var_dir / name).symlink_to((source_var / name).resolve())
    return var_dir


class StackError(RuntimeError):
    """A process of the stack did not start or died."""


def rasa_env(settings: Settings) -> dict[str, str]:
    """Return the environment Rasa needs to expand endpoints.yml."""
    return {
        **os.environ,
        **RASA_QUIET_ENV,
        "BOT_URL": settings.service_url,
        "RASA_TRACKER_DB": str(settings.tracker_db),
    }


def bot_env(settings: Settings) -> dict[str, str]:
    """Return the environment that gives a child bot service these settings."""
    return {
        **os.environ,
        "BOT_HOST": settings.host,
        "BOT_PORT": str(settings.port),
        "BOT_RASA_PORT": str(settings.rasa_port),  # the widget's demo page connects there
        "BOT_VAR_DIR": str(settings.var_dir),
        "BOT_DATABASE_URL": settings.db_url,
    }


def rasa_command(settings: Settings, *args: str) -> list[str]:
    """Return a rasa command line run in its own virtualenv against our project files."""
    d = settings.rasa_dir
    return [
        str(settings.rasa_venv / "bin" / "rasa"), *args,
        "--model", str(settings.rasa_model),
        "--endpoints", str(d / "endpoints.yml"),
        "--credentials", str(d / "credentials.yml"),
        "--port", str(settings.rasa_port),
    ]


def wait_until_ready(url: str, process: subprocess.Popen, *, timeout: float, name: str,
                     params: dict[str, str] | None = None) -> None:
    """Poll url (with query params, kept out of error messages) until it answers 200, failing
    early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{name} exited with code {process.returncode} while starting")
        try:
            if httpx.get(url, params=params, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise StackError(f"{name} not ready at {url} after {timeout:.0f} s")


class Stack:
    """The bot service and the Rasa server as child processes."""

    def __init__(self, settings: Settings, *, log_dir: Path | None = None) -> None:
        if settings.rasa_api_token is None:  # Rasa's API is never left open
            token = SecretStr(secrets.token_urlsafe(32))
            settings = settings.model_copy(update={"rasa_api_token": token})
        self.settings = settings
        self.log_dir = log_dir
        self.bot: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self._logs: list[IO[bytes]] = []

    @property
    def rasa_url(self) -> str:
        """Return the Rasa server's base URL."""
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def rasa_api_params(self) -> dict[str, str]:
        """Return the query parameters that authorise a call to Rasa's HTTP API."""
        assert self.settings.rasa_api_token is not None  # set in __init__
        return {"token": self.settings.rasa_api_token.get_secret_value()}

    def _output(self, name: str) -> IO[bytes] | None:
        if self.log_dir is None:
            return None  # inherit the terminal
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        return log

    def start_bot(self, *, timeout: float = 180) -> None:
        """Start the bot service and wait for /health."""
        out = self._output("bot")
        self.bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=bot_env(self.settings), stdout=out, stderr=subprocess.STDOUT if out else None,
        )
        wait_until_ready(f"{self.settings.service_url}/health", self.bot, timeout=timeout,
                         name="bot service")

    def start_rasa(self, *, timeout: float = 240) -> None:
        """Start the Rasa server (REST and socketio) and wait until its model is loaded."""
        out = self._output("rasa")
        self.rasa = subprocess.Popen(
            # One argument: a token may start with "-", which argparse takes for an option.
            rasa_command(self.settings, "run", "--enable-api",
                         f"--auth-token={self.rasa_api_params['token']}"),
            cwd=self.settings.rasa_dir, env=rasa_env(self.settings),
            stdout=out, stderr=subprocess.STDOUT if out else None,
        )
        wait_until_ready(f"{self.rasa_url}/status", self.rasa, timeout=timeout, name="Rasa",
                         params=self.rasa_api_params)

    def start(self) -> Stack:
        """Start both processes; stop whatever started if either fails."""
        try:
            self.start_bot()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def stop_rasa(self) -> None:
        """Stop the Rasa server."""
        _terminate(self.rasa)
        self.rasa = None

    def stop_bot(self) -> None:
        """Stop the bot service."""
        _terminate(self.bot)
        self.bot = None

    def stop(self) -> None:
        """Stop both processes and close their logs."""
        self.stop_rasa()
        self.stop_bot()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def wait(self) -> int:
        """Block until either process exits; return its exit code."""
        while True:
            for process in (self.bot, self.rasa):
                if process is not None and process.poll() is not None:
                    return process.returncode
            time.sleep(0.5)


def _terminate(process: subprocess.Popen | None, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # lets Rasa and uvicorn shut down cleanly
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
