"""The shopper's side: catalog, cart, checkout, handoff to WhatsApp and the public order status page."""

from storefront import views  # noqa: F401  (routes register on the blueprint)
from storefront.blueprint import storefront_blueprint

__all__ = ["storefront_blueprint"]
