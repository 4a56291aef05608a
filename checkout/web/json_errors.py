"""The one JSON error body: every answer under /api/ (and the WhatsApp webhook's refusals) has this shape.

`{"error": {"code": ..., "message": ..., "fields": {...}}}`: a stable code to test, words for people, and
the fields the problem is about (empty when it is about the whole request). The widget relies on it.
"""


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}
