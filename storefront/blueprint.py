"""The shopper's side's blueprint, which storefront/views.py registers its routes on."""

from flask import Blueprint

storefront_blueprint = Blueprint("storefront", __name__)
