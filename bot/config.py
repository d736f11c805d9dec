"""Settings and defaults; the only reader of os.environ."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Fitted by `bankbot fit-thresholds` on train/valid data; env vars override them.
THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yml"
# Words of example secrets from docs and templates: a key containing one is refused.
PLACEHOLDER_SECRETS = ("changethis", "changeme", "secret", "placeholder", "example")


class Settings(BaseSettings):
    """Every setting of the bot service, read from BOT_* variables and bot/thresholds.yml."""

    model_config = SettingsConfigDict(env_prefix="BOT_", yaml_file=THRESHOLDS_FILE, extra="ignore")

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("BOT_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the FAQ and ticket database; "
        "empty means SQLite under var_dir.",
    )
    var_dir: Path = Field(PROJECT_DIR / "var", description="Where runtime files live.")
    data_dir: Path = Field(PROJECT_DIR / "data", description="Seed FAQs and classifier data.")
    datasets_dir: Path = Field(
        PROJECT_DIR.parent / "shared" / "datasets",
        description="Public evaluation data (BANKING77, CLINC150 and their OOS splits).",
    )
    model_path: Path | None = Field(
        None,
        description="Sentence-transformers model directory; default: var/model-tuned if present, "
        "else the bundled all-MiniLM-L6-v2.",
    )
    # int8 ONNX: about 6x faster than PyTorch here for 0.3 points of BANKING77 top-1 (issue 4).
    encoder_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8", description="How the encoder runs: PyTorch, ONNX Runtime, or ONNX int8."
    )
    encoder_threads: int = Field(
        1, ge=1, description="ONNX Runtime threads per encode call."
    )
    # One at a time: encodings in parallel only share the two cores with each other and with
    # Rasa, and the tail at 8 busy conversations was longer (issue 4; measured in
    # docs/performance-notes.md). Long messages have a lane of their own (below).
    decide_threads: int = Field(
        1, ge=1, description="Messages the service decides at once in each lane (short and "
        "long messages); the rest wait in line."
    )
    # A message of 2,000 characters takes about 37 ms to encode here, against 2-4 ms for a
    # typical question: in one line with them it held up every question behind it.
    long_message_chars: int = Field(
        200, gt=0, description="Messages longer than this are decided in the long lane."
    )
    rasa_dir: Path = Field(
        PROJECT_DIR, description="The Rasa project (config.yml, domain.yml, endpoints.yml)."
    )
    rasa_venv: Path = Field(PROJECT_DIR / ".venv-rasa", description="Rasa's own virtualenv.")
    rasa_port: int = Field(5005, description="Port of the Rasa server (REST and socketio).")
    public_rasa_url: str = Field(
        "",
        description="Rasa's URL as customers' browsers reach it, for the chat widget's socket; "
        "empty means the host of the page's request on rasa_port.",
    )
    rasa_api_token: SecretStr | None = Field(
        None,
        description="Token of Rasa's HTTP API (/status, /conversations/...: every customer's "
        "conversation), sent as ?token=; unset, `bankbot run` makes a random one, so the API is "
        "never open. Customers' channels (REST webhook, socketio) need none.",
    )
    host: str = Field("127.0.0.1", description="Address the bot service listens on.")
    port: int = Field(8000, description="Port of the bot service.")
    reload_interval: float = Field(
        0.5, gt=0, description="Seconds between checks for published FAQ changes."
    )
    max_message_chars: int = Field(
        2000, gt=0, description="Only this many characters of a message are classified."
    )
    # A message that would be declined gets the other_language reply if its language is
    # confidently not English (bot/nlu/language.py). Chosen on English CLINC150 train/val and
    # hand-written questions in other languages; docs/evaluation-notes.md has the figures.
    other_language_max_english: float = Field(
        0.05, ge=0, le=1, description="Highest probability of English for another language."
    )
    other_language_min_confidence: float = Field(
        0.5, ge=0, le=1, description="Lowest probability of the likeliest other language."
    )
    # "card", "loan", "test", "you there?", "stop please": a ticket saying only that helps no
    # one, and customers typing a keyword were told a colleague would be in touch.
    min_words_to_escalate: int = Field(
        3, ge=1, description="A message with fewer words that would be escalated is asked for "
        "more detail instead (no ticket); 1 escalates every such message."
    )

    # Staff console (bot/console/); see issue 5.
    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="development and test allow a missing BOT_SECRET_KEY (sessions then last "
        "one process); production requires a real one and sends cookies over HTTPS only.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs staff console session cookies; at least 32 characters, no default. "
        "Every service process sharing a database needs the same key.",
    )
    staff_session_hours: float = Field(
        8, gt=0, description="Hours a staff console login lasts."
    )
    staff_max_failed_logins: int = Field(
        5, gt=0, description="Failed staff logins in a row that lock the account."
    )
    staff_lockout_minutes: float = Field(
        15, gt=0, description="Minutes a locked staff account stays locked."
    )
    inbox_group_similarity: float = Field(
        0.75, ge=0, le=1,
        description="Cosine similarity at which unanswered messages join the same inbox group.",
    )

    # Decision thresholds (cosine similarity or probability); see bot/decision.py.
    intent_threshold: float = Field(
        0.6, ge=0, le=1, description="Router probability above which a conversational intent wins."
    )
    decline_threshold: float = Field(
        0.5, ge=0, le=1, description="Router probability of out_of_scope above which we decline."
    )
    answer_threshold: float = Field(
        0.7, ge=0, le=1, description="FAQ similarity needed to answer."
    )
    clarify_margin: float = Field(
        0.03, ge=0, le=1, description="If the top two FAQs are closer than this, ask which one."
    )
    clarify_threshold: float = Field(
        0.55, ge=0, le=1, description="Both FAQs must score this much to be offered as choices."
    )
    suggest_threshold: float = Field(
        0.7, ge=0, le=1, description="FAQ similarity from which a question that is not answered "
        "is offered the closest FAQs as choices instead of being escalated (1: never)."
    )

    fitted_for_encoder: str = Field(
        "", description="sha256 of the encoder weights the thresholds were fitted for; "
        "`bankbot fit-thresholds` writes it, and the service warns when it serves other weights."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Let arguments beat env vars, env vars beat the fitted thresholds file."""
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))

    @field_validator("var_dir", "data_dir", "datasets_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @model_validator(mode="after")
    def _check_thresholds(self) -> Settings:
        if self.clarify_threshold > self.answer_threshold:
            raise ValueError("clarify_threshold must not exceed answer_threshold")
        return self

    @model_validator(mode="after")
    def _check_secret_key(self) -> Settings:
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if self.secret_key is not None and (
            len(secret) < 32
            or len(set(secret)) < 10
            or any(word in secret.lower() for word in PLACEHOLDER_SECRETS)
        ):
            raise ValueError("BOT_SECRET_KEY must be at least 32 random characters, "
                             "e.g. from `python -c 'import secrets; "
                             "print(secrets.token_urlsafe())'`")
        if self.environment == "production" and not secret:
            raise ValueError("BOT_SECRET_KEY is required when BOT_ENVIRONMENT=production")
        return self

    def thresholds_fitted_for(self, weights_sha256: str) -> bool | None:
        """Return whether the thresholds were fitted for an encoder with these weights; None
        when they do not say (fitted_for_encoder empty, as before it was recorded)."""
        return self.fitted_for_encoder == weights_sha256 if self.fitted_for_encoder else None

    @property
    def db_url(self) -> str:
        """Return the database URL, defaulting to SQLite under var_dir."""
        return self.database_url or f"sqlite:///{self.var_dir / 'bot.db'}"

    @property
    def service_url(self) -> str:
        """Return the URL at which this machine reaches the bot service."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def router_path(self) -> Path:
        """Return where the trained intent/domain router is kept."""
        return self.var_dir / "router.joblib"

    @property
    def rasa_model(self) -> Path:
        """Return the trained Rasa core model."""
        return self.rasa_dir / "models" / "core.tar.gz"

    @property
    def tracker_db(self) -> Path:
        """Return the SQLite file of Rasa's tracker store."""
        return self.var_dir / "rasa_tracker.db"

    @property
    def onnx_export_dir(self) -> Path:
        """Return where ONNX exports of the encoder are kept."""
        return self.var_dir / "encoder-onnx"

    @property
    def embedding_cache_dir(self) -> Path:
        """Return where sentence embeddings are cached between runs."""
        return self.var_dir / "embeddings"

    @property
    def tuned_model_dir(self) -> Path:
        """Return where a fine-tuned encoder would be saved."""
        return self.var_dir / "model-tuned"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()
