"""Storefront views: parse the request, call checkout/, render. HTMX requests get just the fragment."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from markupsafe import Markup

from checkout import catalog, page_cache
from checkout.fragments import render_block, wants_fragment
from checkout.models.store import get_store_settings
from checkout.orders.errors import InvalidOrderDetails, OrderError
from checkout.orders.placing import CustomerDetails, find_order_by_checkout_key, place_order
from checkout.orders.pricing import delivery_fee
from checkout.orders.status_page import find_order_by_token
from checkout.urls import external_url
from checkout.whatsapp.links import HandoffLinks, build_order_summary, handoff_links, qr_link, qr_svg
from storefront import cart as shopping_cart
from storefront import storefront_blueprint as bp
from storefront.forms import AddToCartForm, CheckoutForm, UpdateCartForm


@bp.app_context_processor
def cart_badge():
    return {"cart_count": shopping_cart.cart_item_count(session)}


@bp.get("/")
def catalog_page():
    category = request.args.get("category", "").strip()[:80] or None
    search = request.args.get("q", "").strip()[: catalog.SEARCH_MAX]

    def catalog_context() -> dict:
        products = catalog.list_active_products(category, search)
        return dict(
            products=products,
            categories=catalog.list_categories(),
            active_category=category,
            search=search,
            sold_out=catalog.sold_out_product_ids(products, catalog.availability(products)),
        )

    def whole_page() -> str:
        catalog_html = page_cache.rendered(
            ("catalog", category, search), lambda: render_template("storefront/_catalog.html", **catalog_context())
        )
        # Only GET forms here: no CSRF token, so a first visit starts no session and sets no cookie.
        return render_template("storefront/catalog.html", catalog_html=catalog_html, read_only_page=True)

    if wants_fragment():
        return page_cache.rendered(
            ("catalog-results", category, search),
            lambda: render_block("storefront/_catalog.html", "results", **catalog_context()),
        )
    if not session:  # no cart and no messages: the very page every such visitor gets
        return page_cache.rendered(("catalog-page", category, search), whole_page)
    return whole_page()


@bp.get("/p/<slug>")
def product_page(slug: str):
    rendered = page_cache.reuse(("product", slug), lambda: _render_product(slug))
    if rendered is None:
        abort(404)
    product_name, product_html = rendered
    return render_template("storefront/product.html", product_name=product_name, product_html=product_html)


def _render_product(slug: str) -> tuple[str, Markup] | None:
    """The product's name and page body, the same for every visitor; None if it is not for sale."""
    product = catalog.get_active_product(slug)
    if product is None:
        return None
    available = catalog.availability([product])
    first_in_stock = next((v for v in product.variants if available.get(v.id)), None)
    html = render_template(
        "storefront/_product.html",
        product=product,
        available=available,
        selected_variant_id=first_in_stock.id if first_in_stock else None,
    )
    return product.name, Markup(html)


@bp.post("/cart/add")
def add_to_cart():
    form = AddToCartForm()
    variant = catalog.get_variant(form.variant_id.data) if form.validate() else None
    if variant is None or not variant.product.is_sellable:
        message = "; ".join(e for errors in form.errors.values() for e in errors) or "That item is not available."
        if wants_fragment():
            return render_template("storefront/_add_result.html", error=message), 422
        flash(message, "error")
        return redirect(request.referrer or url_for("storefront.catalog_page"))
    try:
        shopping_cart.add_to_cart(session, variant.id, form.quantity.data)
    except shopping_cart.CartFull as error:
        if wants_fragment():
            return render_template("storefront/_add_result.html", error=str(error)), 422
        flash(str(error), "error")
        return redirect(url_for("storefront.cart_page"))
    if wants_fragment():
        return render_template(
            "storefront/_add_result.html", variant=variant, cart_count=shopping_cart.cart_item_count(session)
        )
    flash(f"Added {variant.product.name} to your cart.", "success")
    return redirect(url_for("storefront.cart_page"))


def _cart_context():
    settings = get_store_settings()
    lines, dropped = shopping_cart.load_cart_lines(session)
    for name in dropped:
        flash(f"{name} is no longer available and was removed from your cart.", "warning")
    subtotal = sum(line.line_total_minor for line in lines)
    return dict(
        lines=lines,
        subtotal_minor=subtotal,
        delivery_fee_minor=delivery_fee(subtotal, "delivery", settings),
        available=catalog.availability(list({line.variant.product for line in lines})),
    )


def _render_cart(status: int = 200):
    context = _cart_context()
    if wants_fragment():
        return render_block("storefront/cart.html", "cart", fragment=True, **context), status
    return render_template("storefront/cart.html", **context), status


@bp.get("/cart")
def cart_page():
    return _render_cart()


@bp.post("/cart/update")
def update_cart():
    form = UpdateCartForm()
    if not form.validate():
        flash("Quantities must be whole numbers from 0 to 99.", "error")
        return _render_cart(422) if wants_fragment() else redirect(url_for("storefront.cart_page"))
    shopping_cart.set_quantity(session, form.variant_id.data, form.quantity.data)
    return _render_cart() if wants_fragment() else redirect(url_for("storefront.cart_page"))


@bp.post("/cart/remove")
def remove_from_cart():
    form = UpdateCartForm(data={"quantity": 0})
    if form.variant_id.validate(form) and form.variant_id.data is not None:
        shopping_cart.remove_line(session, form.variant_id.data)
    return _render_cart() if wants_fragment() else redirect(url_for("storefront.cart_page"))


def _render_checkout(form: CheckoutForm, status: int = 200, error: str | None = None):
    context = _cart_context()
    if not context["lines"]:
        flash("Your cart is empty.", "warning")
        return redirect(url_for("storefront.cart_page"))
    form.checkout_key.data = form.checkout_key.data or shopping_cart.checkout_key(session)
    form.expected_subtotal.data = str(context["subtotal_minor"])
    return render_template("storefront/checkout.html", form=form, error=error, **context), status


@bp.get("/checkout")
def checkout_page():
    return _render_checkout(CheckoutForm(get_store_settings()))


@bp.post("/checkout")
def place_order_view():
    settings = get_store_settings()
    form = CheckoutForm(settings)
    # A repeat of a submission that already made an order goes to that order, whatever else it says.
    existing = find_order_by_checkout_key(form.checkout_key.data or None)
    if existing is not None:
        _forget_cart_of(existing)
        return redirect(url_for("storefront.handoff_page", token=existing.status_token), 303)
    if not form.validate():
        return _render_checkout(form, 422)
    details = CustomerDetails(
        name=form.name.data.strip(),
        phone=form.normalised_phone,
        fulfilment=form.fulfilment.data,
        address=(form.address.data or "").replace("\r\n", "\n"),
        payment_method=form.payment_method.data,
        note=(form.note.data or "").replace("\r\n", "\n"),
    )
    try:
        order = place_order(
            lines=shopping_cart.cart_pairs(session),
            details=details,
            settings=settings,
            checkout_key=form.checkout_key.data or shopping_cart.checkout_key(session),
            expected_subtotal_minor=form.expected_subtotal_minor(),
        )
    except InvalidOrderDetails as error:
        getattr(form, error.field).errors = [error.message]
        return _render_checkout(form, 422)
    except OrderError as error:
        form.expected_subtotal.data = None  # show the new figures; the next submit uses them
        return _render_checkout(form, 409, error=str(error))
    _forget_cart_of(order)
    return redirect(url_for("storefront.handoff_page", token=order.status_token), 303)


def _forget_cart_of(order) -> None:
    """Clear the cart that made this order (and only that one: a newer cart is left alone)."""
    if shopping_cart.checkout_key(session) == order.checkout_key:
        shopping_cart.clear_cart(session)


def _order_or_404(token: str):
    order = find_order_by_token(token)
    if order is None:
        abort(404)
    return order


@bp.get("/o/<token>/whatsapp")
def handoff_page(token: str):
    order = _order_or_404(token)
    summary, links = _whatsapp_message(order)
    return render_template("storefront/handoff.html", order=order, summary=summary, links=links)


@bp.get("/o/<token>/qr.svg")
def handoff_qr(token: str):
    """The desktop QR code, fetched only by screens that show it (phones never draw one)."""
    order = _order_or_404(token)
    _, links = _whatsapp_message(order)
    short_link = external_url("storefront.whatsapp_redirect", token=order.status_token)
    headers = {"Content-Type": "image/svg+xml", "Cache-Control": "private, max-age=86400"}
    return qr_svg(qr_link(links, short_link)), 200, headers


@bp.get("/o/<token>/wa")
def whatsapp_redirect(token: str):
    """A short address for the QR code; leads to the same prefilled wa.me link."""
    _, links = _whatsapp_message(_order_or_404(token))
    return redirect(links.app)


def _whatsapp_message(order) -> tuple[str, HandoffLinks]:
    settings = get_store_settings()
    status_url = external_url("storefront.order_status", token=order.status_token)
    summary = build_order_summary(order, settings, status_url)
    return summary, handoff_links(settings.whatsapp_digits, summary)


@bp.get("/o/<token>")
def order_status(token: str):
    order = _order_or_404(token)
    return render_template("storefront/order_status.html", order=order)
