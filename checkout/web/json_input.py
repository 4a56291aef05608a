"""JSON from outside (the Store API, the WhatsApp webhook) is read here, nested at most MAX_DEPTH deep.

Python's parser recurses once per level: a body of a few hundred thousand `[` would raise RecursionError
(an unhandled 500) and deep values cost every later walk over them. No request we accept nests past a
handful of levels, so anything deeper is refused before it is parsed.
"""

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_CLOSERS_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


class TooDeep(ValueError):
    """Raised for JSON nested deeper than MAX_DEPTH; a ValueError, as any other unreadable JSON."""


def check_depth(raw: str | bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise TooDeep if `raw` nests arrays and objects deeper than `max_depth` (or leaves them unbalanced).

    It works on the text, without recursion: strings are blanked, then each pass deletes the innermost
    `[]` pairs (one level per pass, at C speed); whatever is left after `max_depth` passes is too deep.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b'""', data)).translate(_CLOSERS_AS_BRACKETS)
    for _ in range(max_depth):
        if not brackets:
            return
        brackets = brackets.replace(b"[]", b"")
    if brackets:
        raise TooDeep(f"JSON may be nested at most {max_depth} levels deep.")


def loads(raw: str | bytes) -> Any:
    """json.loads for text from outside: ValueError (TooDeep included) for anything unreadable."""
    check_depth(raw)
    return json.loads(raw)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with the depth limit, so every `request.get_json()` has it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        check_depth(s)
        return super().loads(s, **kwargs)


def register(app) -> None:
    app.json = BoundedJSONProvider(app)
