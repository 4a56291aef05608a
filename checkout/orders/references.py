"""Order references and status-page tokens.

References are read aloud and typed from a phone screen, so they use an alphabet without the
look-alikes 0/O and 1/I, are short (8 characters, shown as two groups of four) and random: they
reveal neither how many orders a shop has nor the next one. 32^8 ≈ 10^12 values, and a unique
constraint backs the rare collision.
"""

import re
import secrets

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERENCE_PATTERN = re.compile(r"\b([2-9A-HJ-NP-Z]{4})-?([2-9A-HJ-NP-Z]{4})\b")


def generate_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def find_reference(text: str) -> str | None:
    """The first order reference in free text (any case, dash optional), in canonical form."""
    match = REFERENCE_PATTERN.search(text.upper())
    return f"{match.group(1)}-{match.group(2)}" if match else None


def generate_status_token() -> str:
    """192 random bits: the only key to an order's public status page."""
    return secrets.token_urlsafe(24)
