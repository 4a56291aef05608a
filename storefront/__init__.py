"""The shopper's side: catalog, cart, checkout, handoff to WhatsApp and the public order status page."""

from flask import Blueprint

storefront_blueprint = Blueprint("storefront", __name__)

from storefront import views  # noqa: E402,F401  (routes register on the blueprint)
