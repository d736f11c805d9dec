"""Card numbers, PINs and security codes are hidden before anything stores a message.

Customers paste card details into chats. A bank must not keep a full card number, and never
a PIN or security code, so every channel's message (REST, socketio, `rasa shell`) is masked
on its way into Rasa: the tracker store, the bot service, its inbox and every ticket's
transcript only ever see the masked text. A card number keeps its last four digits, which
staff may see. When something was hidden, the customer is told so first
(`utter_card_details_hidden` in domain.yml), then the message is handled as usual.

A card number is 13 to 19 digits, in groups separated by single spaces or dashes, that pass
the Luhn check every card number carries; other long numbers (references, phone numbers)
are left alone. A PIN or security code is 3 to 6 digits right after the word for it.
"""

import logging
import re
from typing import Any, Optional, Tuple

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)

NOTICE = "utter_card_details_hidden"

_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_SECRET = re.compile(
    r"\b(pin(?:\s+(?:number|code))?|cvv2?|cvc2?|cv2|security\s+code|passcode)"
    r"(\s*(?:is|was|:|=|-)?\s*)\d{3,6}\b",
    re.IGNORECASE,
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_card(match: "re.Match[str]") -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"[card number ending {digits[-4:]}]" if _luhn(digits) else match.group()


def hide_card_details(text: str) -> Tuple[str, bool]:
    """Return the text with card numbers, PINs and security codes masked, and whether any were."""
    masked = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[hidden]", _CARD.sub(_mask_card, text))
    return masked, masked != text


_handle_message = Agent.handle_message


async def _handle_masked_message(self: Agent, message: UserMessage) -> Optional[Any]:
    if message.text:
        message.text, hidden = hide_card_details(message.text)
        if hidden:
            logger.info("card details hidden in a message of %s", message.sender_id)
            notice = (self.domain.responses.get(NOTICE) if self.domain else None) or []
            if notice and message.output_channel is not None:
                await message.output_channel.send_text_message(
                    message.sender_id, notice[0]["text"])
    return await _handle_message(self, message)


def install() -> None:
    """Mask every message the agent handles, whichever channel it came from."""
    Agent.handle_message = _handle_masked_message  # type: ignore[method-assign]
