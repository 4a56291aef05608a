"""The Store API (`/api/v1`): JSON in and out, one error shape, CORS only for the shop's own sites."""

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from checkout.extensions import csrf
from checkout.models.store import get_store_settings

api_blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_blueprint)  # keys, not cookies, authenticate the API

CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Chatout-Widget-Key"


class ApiError(Exception):
    """An error the client can act on: HTTP status, a stable code, words, and per-field problems."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


@api_blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    return jsonify(error_body(error.code, error.message, error.fields)), error.status


@api_blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = (error.name or "error").lower().replace(" ", "_")
    response = jsonify(error_body(code, error.description or error.name))
    return response, error.code


@api_blueprint.after_request
def _cors(response):
    """Browsers may read answers only on the shop's allowed sites; never a wildcard, never credentials."""
    origin = request.headers.get("Origin")
    if origin and origin in (get_store_settings().allowed_origins or []):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Idempotent-Replayed"
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response


from checkout.api import views  # noqa: E402,F401  (routes register on the blueprint)
