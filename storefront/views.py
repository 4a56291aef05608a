"""Storefront views: parse the request, call checkout/, render. HTMX requests get just the fragment."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from markupsafe import Markup

from checkout import carts
from checkout.catalog.queries import (
    SEARCH_MAX,
    get_active_product,
    list_active_products,
    list_categories,
    option_choices,
    sold_out_product_ids,
)
from checkout.catalog.stock import availability
from checkout.database import utcnow
from checkout.extensions import csrf, limiter
from checkout.models.store import get_store_settings
from checkout.money import format_money
from checkout.orders import limits, returns
from checkout.orders.coupons import apply_code
from checkout.orders.customer_timeline import customer_timeline, parcel_on_the_way, promised_delivery
from checkout.orders.error_responses import response_for
from checkout.orders.errors import CouponNotAccepted, FieldProblem, OrderError, ProductUnavailable
from checkout.orders.placing import (
    details_differing_from,
    find_order_by_checkout_key,
    pending_orders_with_keys,
    place_order,
)
from checkout.orders.pricing import total_lines
from checkout.orders.status_page import find_order_by_token, find_order_for_handoff
from checkout.orders.validation import CustomerDetails, order_details_problems
from checkout.payments.display import customer_payment, payment_state
from checkout.receipts.pdf import receipt_download
from checkout.receipts.receipt import receipt_payment, receipt_payments
from checkout.web import page_cache
from checkout.web.fragments import render_block, render_page_or_block, wants_fragment
from checkout.web.templating import settings_for_display
from checkout.web.urls import external_url, status_url
from checkout.whatsapp.consent import record_checkout_consent
from checkout.whatsapp.links import (
    HandoffLinks,
    build_order_summary,
    handoff_links,
    order_question_text,
    qr_link,
    qr_svg,
    return_request_text,
)
from storefront import cart as shopping_cart
from storefront.blueprint import storefront_blueprint as bp
from storefront.forms import AddToCartForm, CartCodeForm, CheckoutForm, UpdateCartForm
from storefront.pagination import page_number, page_of


@bp.app_context_processor
def cart_badge():
    return {"cart_count": shopping_cart.cart_item_count(session)}


@bp.get("/")
def catalog_page():
    category = request.args.get("category", "").strip()[:80] or None
    search = request.args.get("q", "").strip()[:SEARCH_MAX]
    number = page_number(request.args.get("page"))

    def catalog_context() -> dict:
        page = page_of(list_active_products(category, search), number)
        return dict(
            products=page.items,
            page=page,
            categories=list_categories(),
            active_category=category,
            search=search,
            sold_out=sold_out_product_ids(page.items, availability(page.items)),
        )

    def whole_page() -> str:
        catalog_html = page_cache.rendered(
            ("catalog", category, search, number),
            lambda: render_template("storefront/_catalog.html", **catalog_context()),
        )
        # Only GET forms here: no CSRF token, so a first visit starts no session and sets no cookie.
        return render_template(
            "storefront/catalog.html",
            catalog_html=catalog_html,
            page_number=number,
            read_only_page=True,
            waiting_orders=_waiting_orders(),
        )

    if wants_fragment():
        return page_cache.rendered(
            ("catalog-results", category, search, number),
            lambda: render_block("storefront/_catalog.html", "results", **catalog_context()),
        )
    if not session:  # no cart and no messages: the very page every such visitor gets
        return page_cache.rendered(("catalog-page", category, search, number), whole_page)
    return whole_page()


@bp.get("/p/<slug>")
def product_page(slug: str):
    rendered = page_cache.reuse(("product", slug), lambda: _render_product(slug))
    if rendered is None:
        abort(404)
    product_name, product_html = rendered

    def whole_page() -> str:
        # No CSRF token and no cart token: the add needs neither (see add_to_cart), so a first visit starts no
        # session and every such visitor gets the very same page.
        return render_template(
            "storefront/product.html",
            product_name=product_name,
            product_html=product_html,
            read_only_page=True,
            waiting_orders=_waiting_orders(),
        )

    if not session:  # no cart and no messages
        return page_cache.rendered(("product-page", slug), whole_page)
    return whole_page()


def _render_product(slug: str) -> tuple[str, Markup] | None:
    """The product's name and page body, the same for every visitor; None if it is not for sale."""
    product = get_active_product(slug)
    if product is None:
        return None
    available = availability([product])
    first_in_stock = next((v for v in product.variants if available.get(v.id)), None)
    html = render_template(
        "storefront/_product.html",
        product=product,
        available=available,
        option_choices=option_choices(product, available),
        selected_variant_id=first_in_stock.id if first_in_stock else None,
    )
    return product.name, Markup(html)


@bp.post("/cart/add")
@csrf.exempt
def add_to_cart():
    """Add to this browser's cart. No per-session CSRF token: a cross-site add is refused by its Origin (or
    Referer), as every storefront POST is (checkout/web/cross_site.py), and the session cookie is SameSite=Lax,
    so a cross-site POST that names neither arrives without it and fills a new cart nobody has. Decided in
    docs/performance.md ("Storefront CSRF"): the product page is then the same for every visitor."""
    form = AddToCartForm(meta={"csrf": False})
    try:
        if not form.validate():
            raise ValueError("; ".join(e for errors in form.errors.values() for e in errors))
        change = shopping_cart.add_to_cart(session, form.variant_id.data, form.quantity.data)
    except (ValueError, OrderError) as error:
        message = "That item is not available." if isinstance(error, ProductUnavailable) else str(error)
        if wants_fragment():
            return render_template("storefront/_add_result.html", error=message), 422
        flash(message, "error")
        return redirect(request.referrer or url_for("storefront.catalog_page"))
    note = change.note.message if change.note else None
    if wants_fragment():
        return render_template(
            "storefront/_add_result.html",
            variant=change.variant,
            note=note,
            cart_count=shopping_cart.cart_item_count(session),
        )
    flash(f"Added {change.variant.product.name} to your cart.", "success")
    if note:
        flash(note, "warning")
    return redirect(url_for("storefront.cart_page"))


def _cart_context(available: dict[int, int] | None = None):
    """The cart priced as an order would be, each change since the shopper last looked told once.

    `available`: the stock of the cart's lines, when the change just made read it."""
    settings = get_store_settings()
    cart = shopping_cart.current_cart(session)
    priced = carts.price_cart(cart, "delivery", settings, available)
    for note in priced.notes:
        flash(note.message, "warning")
    carts.record_shown(cart, priced)
    quote, code_problem = carts.with_cart_code(cart, priced.quote, settings)
    if code_problem:
        flash(code_problem, "warning")
    return dict(
        lines=priced.lines,
        subtotal_minor=priced.quote.subtotal_minor,
        delivery_fee_minor=priced.quote.delivery_fee_minor,
        available=priced.available,
        quote=quote,  # with the discount code kept on the cart
        notes=priced.notes,  # already flashed; an answer with one line checks they are all about that line
        code_form=CartCodeForm(formdata=None, data={"coupon_code": cart.coupon_code if cart else ""}),
    )


def _render_cart(status: int = 200, context: dict | None = None):
    page = render_page_or_block(
        "storefront/cart.html",
        "cart",
        page_only=lambda: {"waiting_orders": _waiting_orders()},
        fragment=wants_fragment(),  # a swapped cart brings the badge and the flashed messages with it
        **(context if context is not None else _cart_context()),
    )
    return page, status


# A stepper swaps its own line; an answer that is the whole cart says so.
WHOLE_CART_SWAP = {"HX-Retarget": "#cart", "HX-Reswap": "outerHTML"}


def _changed_line(change: carts.CartChange | None, context: dict):
    """The priced line a quantity change left, when no other line changed since it was shown; else None.

    The whole cart is answered when this line went, or pricing had news of another line (no longer sold and
    taken out, a new price, fewer left): the shopper sees every line as it is now."""
    if change is None or change.quantity == 0:
        return None
    if any(note.variant_id != change.variant.id for note in context["notes"]):
        return None
    return next((line for line in context["lines"] if line.variant.id == change.variant.id), None)


def _waiting_orders() -> list:
    """This browser's recent orders that still wait for the shop: a shopper back from WhatsApp finds them."""
    return pending_orders_with_keys(shopping_cart.placed_checkout_keys(session))


@bp.get("/cart")
def cart_page():
    return _render_cart()


@bp.post("/cart/update")
def update_cart():
    form = UpdateCartForm()
    if not form.validate():
        flash("Quantities must be whole numbers from 0 to 99.", "error")
        if not wants_fragment():
            return redirect(url_for("storefront.cart_page"))
        page, status = _render_cart(422)
        return page, status, WHOLE_CART_SWAP
    if wants_fragment():
        get_store_settings()  # read in the change's transaction, for the prices of the answer: no second one
    change = shopping_cart.set_quantity(session, form.variant_id.data, form.quantity.data)
    if change is not None and change.note is not None:  # fewer than asked: the stock or the most a line holds
        flash(change.note.message, "warning")
    if not wants_fragment():
        return redirect(url_for("storefront.cart_page"))
    context = _cart_context(change.available if change is not None else None)
    line = _changed_line(change, context)
    if line is None:
        page, status = _render_cart(context=context)
        return page, status, WHOLE_CART_SWAP
    # Just the line, and out of band the totals, the badge and the messages: a stepper's answer stays small
    # however many lines the cart has.
    return render_template("storefront/_cart_change.html", line=line, fragment=True, **context)


@bp.post("/cart/code")
@limiter.limit("30 per 10 minutes")  # enough to fix a typo or two, too few to guess codes
def keep_cart_code():
    """Keep a discount code on the cart (blank removes it); the cart shows what it saves, or why it does not apply."""
    form = CartCodeForm()
    cart = shopping_cart.current_cart(session)
    status = 200
    if cart is not None and form.validate():
        settings = get_store_settings()
        try:
            quote = carts.keep_code(
                cart, form.coupon_code.data or "", carts.price_cart(cart, "delivery", settings).quote, settings
            )
            saved = format_money(quote.coupon_saving_minor, quote.currency, settings.locale)
            flash(
                f"Code {quote.coupon_code} applied: you save {saved}."
                if quote.coupon_code
                else "Discount code removed.",
                "success",
            )
        except OrderError as refused:  # the code does not apply, or the cart was ordered meanwhile
            flash(str(refused), "error")
            status = 422
    return _render_cart(status) if wants_fragment() else redirect(url_for("storefront.cart_page"))


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
    form.checkout_key.data = shopping_cart.issued_checkout_key(session, form.checkout_key.data)
    form.expected_subtotal.data = str(context["subtotal_minor"])
    context["priced"] = _priced_with_code(form, context["lines"])
    if status == 200 and form.coupon_code.errors:
        status = 422
    page = render_template("storefront/checkout.html", form=form, error=error, **context)
    # After rendering: the commit expires what the page read, which would otherwise be read again.
    carts.record_checkout_started(shopping_cart.current_cart(session))
    return page, status


def _priced_with_code(form: CheckoutForm, lines):
    """The checkout's figures with the typed discount code applied; a refused code's reason goes under its box."""
    settings = get_store_settings()
    quote = total_lines(lines, "delivery", settings)
    if form.coupon_code.errors:
        return quote
    try:
        return apply_code(
            quote, form.coupon_code.data or "", phone=form.phone_if_valid(), now=utcnow(), settings=settings
        )
    except CouponNotAccepted as refused:
        form.coupon_code.errors = [str(refused)]
        return quote


@bp.get("/checkout")
def checkout_page():
    form = CheckoutForm(get_store_settings())
    cart = shopping_cart.current_cart(session)
    if cart is not None and not form.coupon_code.data:
        form.coupon_code.data = cart.coupon_code  # the code kept on the cart goes on to checkout
    return _render_checkout(form)


@bp.post("/checkout/code")
@limiter.limit("30 per 10 minutes")  # enough to fix a typo or two, too few to guess codes
def apply_coupon_view():
    """The checkout again with the discount code applied (or its reason for not applying), details kept."""
    return _render_checkout(CheckoutForm(get_store_settings()))


@bp.post("/checkout")
@limits.per_address()
def place_order_view():
    settings = get_store_settings()
    form = CheckoutForm(settings)
    # A repeat of a submission that already made an order goes to that order, whatever else it says.
    # Only a key this session was given counts: a key from anywhere else would open someone else's order.
    checkout_key = shopping_cart.issued_checkout_key(session, form.checkout_key.data)
    read = form.validate()
    details = _customer_details(form)
    problems = order_details_problems(details, settings)
    cart = shopping_cart.current_cart(session)
    # An open cart's own key has made no order yet (placing links the cart as it commits): no need to look.
    repeat = cart is None or checkout_key != shopping_cart.checkout_key(session)
    existing = find_order_by_checkout_key(checkout_key) if repeat else None
    if existing is not None:
        _forget_cart_of(existing, link=True)
        if read and not problems:
            _say_details_were_not_used(existing, details_differing_from(existing, details))
        return redirect(url_for("storefront.handoff_page", token=existing.status_token), 303)
    cart_id = cart.id if cart is not None else None
    typed = dict(name=details.name.strip(), phone=details.phone)  # kept on the cart, placed or not
    if not read or problems:
        carts.note_customer(cart, **typed)
        _show_problems(form, problems)
        return _render_checkout(form, 422)
    try:
        with limits.per_phone(details.phone):
            order = place_order(
                lines=carts.order_lines(cart) if cart is not None else [],
                details=details,
                settings=settings,
                checkout_key=checkout_key,
                expected_subtotal_minor=form.expected_subtotal_minor(),
                coupon_code=form.coupon_code.data or "",
                cart_id=cart_id,
            )
    except RateLimitExceeded as limited:
        carts.note_customer(cart, **typed)
        form.phone.errors = [limited.description]
        return _render_checkout(form, 429)
    except OrderError as error:
        carts.note_customer(cart, **typed)
        response = response_for(error)
        if response.on_form:
            _show_problems(form, error.problems)
            return _render_checkout(form, response.status)
        form.expected_subtotal.data = None  # show the new figures; the next submit uses them
        return _render_checkout(form, response.status, error=str(error))
    handoff = url_for("storefront.handoff_page", token=order.status_token)
    if form.consent.data:
        record_checkout_consent(order, source="website", wording=settings.consent_wording)
    _forget_cart_of(order)
    return redirect(handoff, 303)


def _customer_details(form: CheckoutForm) -> CustomerDetails:
    return CustomerDetails(
        name=form.name.data or "",
        phone=form.normalised_phone or "",
        fulfilment=form.fulfilment.data or "",
        address=(form.address.data or "").replace("\r\n", "\n"),
        payment_method=form.payment_method.data or "",
        note=(form.note.data or "").replace("\r\n", "\n"),
    )


def _show_problems(form: CheckoutForm, problems: list[FieldProblem]) -> None:
    """Each problem under its field, unless the field could not even be read (that error says more)."""
    for problem in problems:
        field = form[problem.field]
        if not field.errors:
            field.errors = [problem.message]


def _say_details_were_not_used(order, differing: list[str]) -> None:
    """A second tab (or a changed resubmission) lands on the order already placed: say so, and how to change it."""
    if not differing:
        return
    changed = differing[0] if len(differing) == 1 else ", ".join(differing[:-1]) + " and " + differing[-1]
    verb = "was" if len(differing) == 1 else "were"
    flash(
        f"Order {order.reference} was already placed with the details you gave first, so the new {changed} "
        f"{verb} not used. To change them, send {get_store_settings().name} a message on WhatsApp.",
        "warning",
    )


def _forget_cart_of(order, *, link: bool = False) -> None:
    """Give this browser a new cart after the one that made this order (and only then: a newer cart is
    left alone). `link`: a repeat, whose first answer may have been lost before its cart was linked."""
    if shopping_cart.checkout_key(session) != order.checkout_key:
        return
    cart = shopping_cart.current_cart(session) if link else None
    if cart is not None:
        carts.mark_ordered(cart.id, order.id)
    shopping_cart.start_new_cart(session)


@bp.get("/cart/open/<token>")
def open_cart(token: str):
    """A reopen link (from the widget, a message or an order's page): continue that cart in this browser."""
    cart = carts.reopen_cart(token)
    if cart is None:
        return render_template("storefront/cart_gone.html"), 404
    shopping_cart.adopt_cart(session, cart)
    return redirect(url_for("storefront.cart_page"))


def _order_or_404(token: str):
    order = find_order_by_token(token)
    if order is None:
        abort(404)
    return order


@bp.get("/o/<token>/whatsapp")
def handoff_page(token: str):
    order = find_order_for_handoff(token) or abort(404)
    summary, links = _whatsapp_message(order)
    return render_template(
        "storefront/handoff.html",
        order=order,
        summary=summary,
        links=links,
        payment=customer_payment(order, settings_for_display()),
    )


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
    settings = settings_for_display()  # only read: the copy pages reuse
    summary = build_order_summary(order, settings, status_url(order))
    return summary, handoff_links(settings.whatsapp_digits, summary)


@bp.get("/o/<token>/receipt/<int:payment_id>.pdf")
@limiter.limit("60 per minute")  # a PDF costs about half a second to draw: Meta's fetch and a few taps, not a flood
def payment_receipt(token: str, payment_id: int):
    """A payment's receipt for whoever holds the order's status link (the link the customer was sent)."""
    order = _order_or_404(token)
    payment = receipt_payment(order, payment_id) or abort(404)
    body, headers = receipt_download(order, payment, get_store_settings())
    return body, 200, headers


def _return_link(order, settings) -> str:
    """The wa.me link that starts a return in the chat, while the delivered order is inside the return window."""
    if not settings.whatsapp_digits or not returns.eligibility(order, settings).open_at(utcnow()):
        return ""
    return handoff_links(settings.whatsapp_digits, return_request_text(order)).app


@bp.get("/o/<token>")
def order_status(token: str):
    order = _order_or_404(token)
    settings = settings_for_display()
    locale = settings.locale
    payment, receipts = customer_payment(order, settings), receipt_payments(order)
    return render_template(
        "storefront/order_status.html",
        order=order,
        question_link=handoff_links(settings.whatsapp_digits, order_question_text(order)).app,
        return_link=_return_link(order, settings),
        timeline=customer_timeline(order, locale),
        parcel=parcel_on_the_way(order, locale, settings.zone_name, utcnow()),
        promised_delivery=promised_delivery(order, locale),
        cart=carts.find_cart_of_order(order),
        payment=payment,
        payment_state=payment_state(order, settings, payment, receipts),
        receipts=receipts,
    )
