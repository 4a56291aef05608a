"""What the Store API says about orders and products."""

from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.lifecycle import OrderStatus
from checkout.urls import absolute_url, external_url
from checkout.whatsapp.links import build_order_summary, handoff_links, qr_link


def order_json(order: Order, settings: StoreSettings, *, full: bool = True) -> dict:
    status_url = external_url("storefront.order_status", token=order.status_token)
    money = lambda amount: format_money(amount, order.currency, settings.locale)  # noqa: E731
    body = {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "source": order.source,
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "total_minor": order.total_minor,
        "total_display": money(order.total_minor),
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "options": line.options_label,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "line_total_minor": line.line_total_minor,
            }
            for line in order.lines
        ],
        "status_url": status_url,
        "created_at": order.created_at.isoformat(),
    }
    if full:
        summary = build_order_summary(order, settings, status_url)
        links = handoff_links(settings.whatsapp_digits, summary)
        short = external_url("storefront.whatsapp_redirect", token=order.status_token)
        body.update(
            fulfilment=order.fulfilment,
            payment_method=order.payment_method,
            payment_status=order.payment_status,
            external_reference=order.external_reference,
            customer={"name": order.customer_name, "phone": order.customer_phone, "address": order.delivery_address},
            whatsapp={
                "summary": summary,
                "app_url": links.app,
                "web_url": links.web,
                "api_url": links.api,
                "qr_url": qr_link(links, short),
            },
        )
    return body


def public_status_json(order: Order) -> dict:
    """For anyone holding the status token: no phone, no address."""
    return {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "lines": [
            {"name": line.product_name, "options": line.options_label, "quantity": line.quantity}
            for line in order.lines
        ],
        "timeline": [
            {"at": event.created_at.isoformat(), "kind": event.kind, "status": event.to_status}
            for event in order.events
            if event.kind in ("created", "status")
        ],
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
