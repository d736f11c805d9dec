"""Parse texts with a trained Rasa NLU model; a script for Rasa's own Python (.venv-rasa).

bot/evaluation/diet.py runs it as `.venv-rasa/bin/python rasa_parse.py MODEL TEXTS OUT`:
TEXTS is a JSON list of strings, OUT receives a JSON object with the Rasa version and one
row per text (`intent` as Rasa returns it, `ranking` the intent names best first). Rasa
3.6 runs on Python 3.10 with its own pins, so nothing of `bot` is imported here, and `bot`
never imports this file. Each text goes through `Agent.parse_message`, as `rasa test nlu`
and `/model/parse` do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path


async def parse_all(model: str, texts: list[str]) -> dict:
    """Return the Rasa version and each text's predicted intent and ranking."""
    import rasa
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog
    from tqdm import tqdm

    # Unconfigured, structlog prints a debug line per parsed message.
    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    rows = []
    for text in tqdm(texts, desc="stock Rasa: parsing", unit="text", file=sys.stderr):
        parsed = await agent.parse_message(text)
        rows.append({
            "intent": (parsed.get("intent") or {}).get("name"),
            "ranking": [r["name"] for r in parsed.get("intent_ranking", [])],
        })
    return {"rasa_version": rasa.__version__, "rows": rows}


def main(argv: list[str]) -> None:
    """Parse the texts of argv[1] with the model argv[0]; write the result to argv[2]."""
    model, texts_path, out_path = argv
    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    result = asyncio.run(parse_all(model, texts))
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
