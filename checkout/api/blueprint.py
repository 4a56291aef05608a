"""The Store API's blueprint, which checkout/api/views.py registers its routes on."""

from flask import Blueprint

from checkout.extensions import csrf

api_blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_blueprint)  # keys, not cookies, authenticate the API
