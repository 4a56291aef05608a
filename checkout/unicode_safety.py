"""Invisible Unicode that changes how text around it is shown: stripped from names before they are kept.

A customer's name containing U+202E (RIGHT-TO-LEFT OVERRIDE) shows staff "Asha ‮55 1234" as something
else, and reverses the rest of a staff alert it is pasted into. Names are cleaned where they enter the
database (orders placed from any channel, WhatsApp profile names), so every page, CSV, alert and
template that shows them later gets the clean text without remembering to; template parameters are
cleaned again on the way out (checkout/whatsapp/limits.py) for rows written before this existed.
"""

import re

# Embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069), LRM/RLM and the Arabic letter mark.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi_controls(text: str) -> str:
    """`text` without Unicode bidirectional control characters."""
    return _BIDI_CONTROL.sub("", text)


def has_bidi_controls(text: str) -> bool:
    return _BIDI_CONTROL.search(text) is not None
