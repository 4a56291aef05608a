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
# With the dash a reference can't be confused with an ordinary 8-letter word ("PAYMENTS").
DASHED_REFERENCE_PATTERN = re.compile(r"\b([2-9A-HJ-NP-Z]{4})-([2-9A-HJ-NP-Z]{4})\b")


def generate_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def find_reference(text: str) -> str | None:
    """The first order reference in free text (any case, dash optional), in canonical form.

    A dashed reference wins over an undashed one anywhere in the text.
    """
    candidates = find_references(text)
    return candidates[0] if candidates else None


def find_references(text: str) -> list[str]:
    """Every reference-shaped run in the text, dashed ones first; callers check them against orders."""
    upper = (text or "").upper()
    found = [f"{a}-{b}" for a, b in DASHED_REFERENCE_PATTERN.findall(upper)]
    found += [f"{a}-{b}" for a, b in REFERENCE_PATTERN.findall(upper)]
    return list(dict.fromkeys(found))


def generate_status_token() -> str:
    """192 random bits: the only key to an order's public status page."""
    return secrets.token_urlsafe(24)
