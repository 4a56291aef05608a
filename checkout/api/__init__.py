"""The Store API (`/api/v1`): JSON in and out, one error shape, CORS only for the shop's own sites."""

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from checkout.api.blueprint import api_blueprint
from checkout.api.errors import ApiError
from checkout.models.store import get_store_settings
from checkout.orders.error_responses import api_error
from checkout.orders.errors import OrderError
from checkout.web.json_errors import error_body

__all__ = ["ApiError", "api_blueprint", "error_body"]

CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Chatout-Widget-Key"


@api_blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    return jsonify(error_body(error.code, error.message, error.fields)), error.status


@api_blueprint.errorhandler(OrderError)
def _order_error(error: OrderError):
    status, body = api_error(error)
    return jsonify(body), status


@api_blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = (error.name or "error").lower().replace(" ", "_")
    response = jsonify(error_body(code, error.description or error.name))
    return response, error.code


@api_blueprint.after_request
def _cors(response):
    """Browsers may read answers only on the shop's allowed sites; never a wildcard, never credentials."""
    origin = request.headers.get("Origin")
    if origin and g.get("readable_refusal"):
        response.headers["Access-Control-Allow-Origin"] = origin  # the refusal's reason only, nothing else
    elif origin and origin in (get_store_settings().allowed_origins or []):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Idempotent-Replayed"
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response


from checkout.api import views  # noqa: E402,F401  (routes register on the blueprint)
