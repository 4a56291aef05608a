"""The Store API's error: what a client can act on. Its JSON body is checkout.web.json_errors.error_body."""


class ApiError(Exception):
    """An error the client can act on: HTTP status, a stable code, words, and per-field problems."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
