"""What the Store API says about orders and products."""

from checkout.carts import CartNote, PricedCart
from checkout.models.carts import Cart
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.documents import order_document
from checkout.orders.pricing import Quote
from checkout.web.urls import absolute_url, external_url, status_url
from checkout.whatsapp.links import build_order_summary, handoff_links, qr_link


def order_json(order: Order, settings: StoreSettings) -> dict:
    """The order document, plus the WhatsApp message and links an API caller hands the customer."""
    summary = build_order_summary(order, settings, status_url(order))
    links = handoff_links(settings.whatsapp_digits, summary)
    short = external_url("storefront.whatsapp_redirect", token=order.status_token)
    return {
        **order_document(order, settings),
        "whatsapp": {
            "summary": summary,
            "app_url": links.app,
            "web_url": links.web,
            "api_url": links.api,
            "qr_url": qr_link(links, short),
        },
    }


def quote_json(quote: Quote, settings: StoreSettings) -> dict:
    """A cart's prices as the shop would charge them now; `*_display` are ready to show as they are."""
    money = lambda amount: format_money(amount, quote.currency, settings.locale)  # noqa: E731
    return {
        "currency": quote.currency,
        "subtotal_minor": quote.subtotal_minor,
        "subtotal_display": money(quote.subtotal_minor),
        "delivery_fee_minor": quote.delivery_fee_minor,
        "delivery_fee_display": money(quote.delivery_fee_minor),
        "discount_minor": quote.discount_minor,
        "discount_display": money(quote.discount_minor),
        "coupon_code": quote.coupon_code or None,
        "coupon_saving_minor": quote.coupon_saving_minor,
        "coupon_saving_display": money(quote.coupon_saving_minor),
        "total_minor": quote.total_minor,
        "total_display": money(quote.total_minor),
        "lines": [
            {
                "sku": line.variant.sku,
                "name": line.variant.product.name,
                "options": line.variant.options_label,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "line_total_minor": line.line_total_minor,
                "line_total_display": money(line.line_total_minor),
            }
            for line in quote.lines
        ],
    }


def cart_json(cart: Cart, priced: PricedCart, settings: StoreSettings, extra_notes=()) -> dict:
    """A cart priced as an order would be charged now, with a note for each line that changed, and the link
    that continues it on the shop's site. Lines no longer sold are only in the notes."""
    priced_json = quote_json(priced.quote, settings)
    for line, quoted in zip(priced_json["lines"], priced.quote.lines, strict=True):
        line["available"] = priced.available.get(quoted.variant.id, 0)
    notes: list[CartNote] = [*extra_notes, *priced.notes]
    return {
        "token": cart.token,
        "channel": cart.channel,
        "ordered": cart.order_id is not None,
        "open_url": external_url("storefront.open_cart", token=cart.token),
        "item_count": priced.quote.item_count,
        **priced_json,
        "notes": [{"sku": note.sku, "kind": note.kind.value, "message": note.message} for note in notes],
    }


def products_json(products, available: dict[int, int], settings: StoreSettings) -> dict:
    return {
        "currency": settings.currency,
        "products": [
            {
                "id": product.id,
                "sku": product.sku,
                "name": product.name,
                "description": product.description,
                "category": product.category.name if product.category else None,
                "image_url": absolute_url(product.image_url) if product.image_url else None,
                "url": external_url("storefront.product_page", slug=product.slug),
                "kind": product.kind,
                "duration_minutes": product.duration_minutes,
                "variants": [
                    {
                        "id": v.id,
                        "sku": v.sku,
                        "options": v.options,
                        "price_minor": v.price_minor,
                        "price_display": format_money(v.price_minor, settings.currency, settings.locale),
                        "available": available.get(v.id, 0),
                    }
                    for v in product.variants
                ],
            }
            for product in products
        ],
    }
