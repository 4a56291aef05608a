"""Ordering inside the WhatsApp chat: a small state machine over the conversation's flow step, data and cart.

    (no flow) ──"hi", "order karna hai", a product's name──▶ product ─▶ option… ─▶ quantity ─▶ next
    next ──Add more──▶ product     next ──View cart──▶ cart ─▶ line (remove / change quantity)
    next / cart ──Checkout──▶ name ─▶ fulfilment ─▶ address ─▶ payment ─▶ confirm ──Confirm──▶ order placed
    a WhatsApp catalog cart (an `order` message) ──▶ name …

Each inbound message is handled once, inside the webhook's transaction with the conversation row locked
(checkout/whatsapp/chats.py), so a customer's messages take turns. The cart is the server cart of every
channel (checkout/carts.py) and the order is placed by the one placing function (orders/placing.py), with a
checkout key made from the flow's id: a retried or repeated Confirm tap finds the order it made. Replies go
through the outbox keyed by the inbound wamid, so a webhook Meta sends twice is answered once.

Off-script messages get the current question again (twice in a row, and a person is called); the shop's
FAQ is answered on the way; "cancel" leaves the flow with the cart kept; a flow idle for a day ends.
"""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout import carts
from checkout.catalog.stock import available_quantities
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.carts import Cart
from checkout.models.catalog import Category, Product, Variant
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.store import PAYMENT_METHOD_LABELS, StoreSettings, get_store_settings
from checkout.money import format_money
from checkout.orders.errors import OrderError, PriceChanged
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.orders.placing import find_order_by_checkout_key, place_order
from checkout.orders.pricing import MAX_LINE_QUANTITY
from checkout.orders.validation import ADDRESS_MAX, NAME_MAX, CustomerDetails
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.shop.faq import faq_answer
from checkout.web.urls import status_url
from checkout.whatsapp import chats, interactive, product_match
from checkout.whatsapp.chat_order_texts import say
from checkout.whatsapp.customer_text import content_words
from checkout.whatsapp.intents import language_of, wants_a_person, wants_to_order, wants_to_stop_ordering
from checkout.whatsapp.interactive import ListRow
from checkout.whatsapp.limits import LIST_ROWS_MAX
from checkout.whatsapp.messages import OutboundMessage, text_message

PRODUCT, OPTION, QUANTITY, TYPED_QUANTITY, NEXT = "product", "option", "quantity", "typed_quantity", "next"
CART, LINE, NAME, FULFILMENT, ADDRESS, PAYMENT, CONFIRM = (
    "cart",
    "line",
    "name",
    "fulfilment",
    "address",
    "payment",
    "confirm",
)
TYPED_STEPS = frozenset({TYPED_QUANTITY, NAME, ADDRESS})  # steps that take whatever the customer types
IDLE_AFTER = timedelta(hours=24)
MISUNDERSTOOD_LIMIT = 2
QUANTITY_ROWS = 10
CART_ROWS_MAX = LIST_ROWS_MAX - 2  # room for "Add more" and "Checkout"
CATALOG_ITEMS_MAX = 30
CONFIRM_PREFIX, CANCEL_PREFIX = "chat-confirm:", "chat-cancel:"
CONFIRMED_NOTE = "Confirmed by the customer in the WhatsApp chat"


@dataclass
class Turn:
    """One inbound message being answered: who wrote, where their flow stands, and the replies gathered."""

    row: Message
    conversation: Conversation
    settings: StoreSettings
    replies: list[OutboundMessage] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.conversation.language or "en"

    @property
    def data(self) -> dict:
        return self.conversation.flow_data or {}

    def say(self, key: str, **values) -> str:
        """The text `key` in the customer's language, in the shop's own words where it wrote some."""
        return say(self.language, key, self.settings.chat_texts, **values)

    def money(self, minor: int) -> str:
        return format_money(minor, self.settings.currency, self.settings.locale)

    def text(self, body: str) -> None:
        self.replies.append(text_message("chat:text", body))

    def send(self) -> None:
        """Queue the bot's replies. The inbox keeps showing the customer's words: the bot's are not news to staff.

        Keyed by the inbound message's wamid, stored in this very transaction after the check that it is new
        (checkout/whatsapp/webhooks.py): no item can have the key yet, so none is looked up."""
        for number, outbound in enumerate(self.replies):
            key = f"chat:{self.row.wamid}:{number}"
            enqueue_whatsapp(outbound, phone=self.row.phone, key=key, new_key=True)


# ---------------------------------------------------------------------------------------------------------------
# The way in
# ---------------------------------------------------------------------------------------------------------------


def waits_for_typing(conversation: Conversation | None) -> bool:
    """Is the flow waiting for something only the customer can type (a name, an address, a number)?"""
    return conversation is not None and conversation.handled_by == chats.BOT and conversation.flow_step in TYPED_STEPS


def handle(row: Message, message: dict, conversation: Conversation | None, reply_id: str = "") -> None:
    """Answer one inbound message the order conversation left alone: a tap, a text or a catalog cart."""
    if conversation is None or not row.phone or conversation.handled_by != chats.BOT:
        return  # no number to order for, or a person has the chat: the bot stays quiet
    turn = Turn(row, conversation, get_store_settings())
    _end_if_idle(conversation)
    if row.kind == "order":
        _catalog_order(turn, message.get("order") or {})
    elif reply_id:
        _tap(turn, reply_id)
    elif row.kind == "text":
        _typed(turn, row.body_text or "")
    turn.send()


def _end_if_idle(conversation: Conversation) -> None:
    touched = conversation.flow_touched_at
    if conversation.flow_step and (touched is None or touched < utcnow() - IDLE_AFTER):
        _leave_flow(conversation)  # the cart stays for the next start to offer


def _leave_flow(conversation: Conversation) -> None:
    conversation.flow_step, conversation.flow_data = "", {}


def _go(turn: Turn, step: str, **data) -> None:
    """Move the flow to `step`, keeping what it gathered and changing `data`; a new flow gets its id."""
    flow = dict(turn.data)
    flow.setdefault("flow_id", secrets.token_hex(8))
    flow.update(data)
    turn.conversation.flow_step, turn.conversation.flow_data = step, flow
    turn.conversation.flow_touched_at = utcnow()
    turn.conversation.misunderstood = 0


# ---------------------------------------------------------------------------------------------------------------
# Typed messages
# ---------------------------------------------------------------------------------------------------------------


def _typed(turn: Turn, text: str) -> None:
    conversation, step = turn.conversation, turn.conversation.flow_step
    if wants_a_person(text):
        _hand_over(turn, "The customer asked for a person", "handed_over")
        return
    if step and wants_to_stop_ordering(text):
        _leave_flow(conversation)
        turn.text(turn.say("stopped"))
        return
    if step in TYPED_STEPS and "?" not in text:
        _typed_answer(turn, step, text)
        return
    answer = faq_answer(text)
    if answer:
        turn.text(answer)
        conversation.misunderstood = 0
        if step:
            conversation.flow_touched_at = utcnow()
            _ask(turn)
        return
    if step == QUANTITY and text.strip().isdigit():
        _typed_answer(turn, TYPED_QUANTITY, text)
        return
    if step in TYPED_STEPS:
        _typed_answer(turn, step, text)
        return
    if _start(turn, text):
        return
    if step:
        _not_understood(turn)


def _typed_answer(turn: Turn, step: str, text: str) -> None:
    if step == NAME:
        name = " ".join(text.split())
        if not name:
            _not_understood(turn)
        elif len(name) > NAME_MAX:
            _ask(turn, lead=turn.say("name_too_long", most=NAME_MAX))
        else:
            _go(turn, NAME, name=name)
            _next_detail(turn)
    elif step == ADDRESS:
        if not text.strip():
            _not_understood(turn)
        elif len(text) > ADDRESS_MAX:
            _ask(turn, lead=turn.say("address_too_long", most=ADDRESS_MAX))
        else:
            _go(turn, ADDRESS, address=text)  # exactly as typed: couriers read it as the customer wrote it
            _next_detail(turn)
    else:
        _typed_quantity(turn, text.strip())


def _typed_quantity(turn: Turn, typed: str) -> None:
    variant = db.session.get(Variant, turn.data.get("variant_id") or 0)
    if variant is None or not typed.isdigit() or int(typed) < 1:
        _not_understood(turn)
        return
    most = _most_addable(turn, variant)
    if int(typed) > most:
        _go(turn, TYPED_QUANTITY)
        turn.text(turn.say("only_left", left=most, item=_item_name(variant)))  # it asks for a number itself
        return
    _put_in_cart(turn, variant, int(typed))


def _not_understood(turn: Turn) -> None:
    conversation = turn.conversation
    conversation.misunderstood = (conversation.misunderstood or 0) + 1
    if conversation.misunderstood >= MISUNDERSTOOD_LIMIT:
        _hand_over(turn, "The bot did not understand the customer twice in a row", "handed_over_confused")
        return
    _ask(turn, lead=turn.say("sorry_again"))


def _hand_over(turn: Turn, reason: str, words: str) -> None:
    chats.hand_to_person(turn.conversation, reason)
    turn.conversation.misunderstood = 0
    turn.text(turn.say(words))


# ---------------------------------------------------------------------------------------------------------------
# Starting, and choosing products
# ---------------------------------------------------------------------------------------------------------------


def _start(turn: Turn, text: str) -> bool:
    """A message that starts (or restarts) ordering: the products it names, else the categories. False if not one."""
    matches = product_match.match_products(text) if content_words(text) else []
    if not matches and not wants_to_order(text):
        return False
    language = language_of(text)
    if language:
        turn.conversation.language = language
    kept = _open_cart(turn.conversation)
    lead = turn.say("cart_kept", count=carts.item_count(kept)) if kept and kept.lines and not turn.data else ""
    if len(matches) == 1 and matches[0].variant_id is not None:
        variant = db.session.get(Variant, matches[0].variant_id)
        if variant is not None and _most_addable(turn, variant) > 0:
            _go(turn, QUANTITY, variant_id=variant.id, setting=False)
            _ask(turn, lead=lead)
            return True
    if matches:
        _go(turn, PRODUCT, listing={"query": text[:200]}, offset=0)
    else:
        _go(turn, PRODUCT, listing=_browse_listing(), offset=0)
    _ask(turn, lead=lead)
    return True


def _browse_listing() -> dict:
    """What "hi" shows: the categories with something to sell, or every product when there are fewer than two."""
    return {"categories": True} if len(_categories_in_stock()) >= 2 else {"all": True}


def _candidates() -> list[product_match.ProductMatch]:
    return [
        product_match.ProductMatch(
            c.product_id,
            c.name,
            c.category,
            0.0,
            c.available,
            c.lowest_price_minor,
            c.has_price_range,
            duration_minutes=c.duration_minutes,
        )
        for c in product_match.load_candidates()
        if c.available > 0
    ]


def _listed_products(listing: dict) -> list[product_match.ProductMatch]:
    if "query" in listing:
        return product_match.match_products(listing["query"])
    found = _candidates()
    if "category_id" in listing:
        in_category = set(db.session.scalars(select(Product.id).where(Product.category_id == listing["category_id"])))
        found = [match for match in found if match.product_id in in_category]
    return sorted(found, key=lambda match: match.name.casefold())


def _categories_in_stock() -> list[Category]:
    selling = {match.product_id for match in _candidates()}
    if not selling:
        return []
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.id.in_(select(Product.category_id).where(Product.id.in_(selling))))
            .order_by(Category.position, Category.name)
        )
    )


def _product_question(turn: Turn, lead: str) -> OutboundMessage:
    listing, offset = turn.data.get("listing") or {"all": True}, turn.data.get("offset", 0)
    body = _joined(lead, turn.say("choose_product"))
    if listing.get("categories"):
        rows = [ListRow(f"cat:{category.id}", category.name) for category in _categories_in_stock()]
        cart = _open_cart(turn.conversation)
        if cart is not None and cart.lines:
            rows.insert(0, ListRow("go:cart", turn.say("cart_row"), turn.say("items", count=carts.item_count(cart))))
        if rows:
            body = _joined(lead, turn.say("choose_category"))
            return interactive.paged_list("chat:categories", body, turn.say("button_categories"), rows, offset=offset)
    matches = _listed_products(listing)
    if not matches:
        return text_message("chat:nothing", _joined(lead, turn.say("nothing_to_sell")))
    if listing.get("all") or listing.get("category_id"):
        body = _joined(lead, turn.say("choose_any"))
    rows = interactive.product_rows(matches, turn.settings.currency, turn.settings.locale)
    return interactive.paged_list("chat:products", body, turn.say("button_choose"), rows, offset=offset)


def _chose_product(turn: Turn, product_id: int) -> None:
    product = db.session.scalar(select(Product).where(Product.id == product_id).options(selectinload(Product.variants)))
    sellable = _sellable_variants(product) if product is not None and product.is_sellable else []
    if not sellable:
        _go(turn, PRODUCT, offset=0, listing=turn.data.get("listing") or _browse_listing())
        _ask(turn, lead=turn.say("not_added", problem=f"{product.name if product else 'that'} is sold out."))
        return
    _go(turn, OPTION, product_id=product.id, chosen={})
    _next_option(turn, product, sellable)


def _sellable_variants(product: Product) -> list[Variant]:
    """The product's variants with units left, in the shop's order: sold-out ones are never offered."""
    left = available_quantities(product.variants)
    return [variant for variant in sorted(product.variants, key=lambda v: (v.position, v.id)) if left[variant.id] > 0]


def _option_choices(product: Product, sellable: list[Variant], chosen: dict) -> tuple[str, list[str]] | None:
    """The next option to ask (its name and the values still available), or None when the variant is known."""
    fitting = [v for v in sellable if all(v.options.get(k) == val for k, val in chosen.items())]
    for name in product.option_names:
        if name in chosen:
            continue
        values = list(dict.fromkeys(str(v.options[name]) for v in fitting if name in v.options))
        if values:
            return name, values
    return None


def _next_option(turn: Turn, product: Product, sellable: list[Variant]) -> None:
    """Ask the next option, or the quantity once the variant is known; `sellable`: `_sellable_variants(product)`,
    read once for the whole turn."""
    chosen = dict(turn.data.get("chosen") or {})
    while (choices := _option_choices(product, sellable, chosen)) is not None and len(choices[1]) == 1:
        chosen[choices[0]] = choices[1][0]  # one value left: nothing to ask
    if choices is not None:
        _go(turn, OPTION, chosen=chosen, option=choices[0], values=choices[1][: LIST_ROWS_MAX * 5])
        _ask(turn)
        return
    variant = next((v for v in sellable if all(v.options.get(k) == val for k, val in chosen.items())), None)
    if variant is None:
        _go(turn, PRODUCT)
        _ask(turn, lead=turn.say("not_added", problem=f"{product.name} is sold out."))
        return
    _go(turn, QUANTITY, variant_id=variant.id, setting=False)
    _ask(turn)


def _option_question(turn: Turn, lead: str) -> OutboundMessage:
    product = db.session.get(Product, turn.data.get("product_id") or 0)
    option, values = turn.data.get("option", ""), turn.data.get("values") or []
    body = _joined(lead, turn.say("choose_option", product=product.name if product else "", option=option))
    rows = [ListRow(f"opt:{index}", value) for index, value in enumerate(values)]
    return interactive.paged_list(
        "chat:option", body, turn.say("button_choose"), rows, offset=turn.data.get("offset", 0)
    )


def _chose_option(turn: Turn, index: int) -> None:
    values = turn.data.get("values") or []
    product = db.session.get(Product, turn.data.get("product_id") or 0)
    if product is None or not 0 <= index < len(values):
        _ask(turn)
        return
    chosen = dict(turn.data.get("chosen") or {})
    chosen[turn.data["option"]] = values[index]
    _go(turn, OPTION, chosen=chosen, offset=0)
    _next_option(turn, product, _sellable_variants(product))


# ---------------------------------------------------------------------------------------------------------------
# Quantity and the cart
# ---------------------------------------------------------------------------------------------------------------


def _open_cart(conversation: Conversation) -> Cart | None:
    """The conversation's cart while it can still be changed; None once ordered or expired."""
    cart = conversation.cart if conversation.cart_id else None
    return cart if cart is not None and cart.order_id is None else None


def _most_addable(turn: Turn, variant: Variant) -> int:
    """How many more of this variant can go in the cart (or, when changing a line, how many it may hold)."""
    left = available_quantities([variant])[variant.id]
    cart = _open_cart(turn.conversation)
    held = next((line.quantity for line in cart.lines if line.variant_id == variant.id), 0) if cart else 0
    if turn.data.get("setting"):
        return min(left, MAX_LINE_QUANTITY)
    return max(0, min(left, MAX_LINE_QUANTITY) - held)


def _item_name(variant: Variant) -> str:
    label = ", ".join(str(value) for value in variant.options.values())
    return f"{variant.product.name} ({label})" if label else variant.product.name


def _quantity_question(turn: Turn, lead: str) -> OutboundMessage:
    variant = db.session.get(Variant, turn.data.get("variant_id") or 0)
    if variant is None:
        return _product_question(turn, lead)
    most, item = _most_addable(turn, variant), _item_name(variant)
    if turn.conversation.flow_step == TYPED_QUANTITY:
        return text_message("chat:quantity", _joined(lead, turn.say("type_quantity", item=item, most=most)))
    if most < 1:
        return text_message("chat:quantity", _joined(lead, turn.say("only_left", left=0, item=item)))
    # Meta allows ten rows in all: 1 to 10 when that is all there is, else 1 to 9 and "10 or more" to type.
    rows = [ListRow(f"qty:{n}", str(n)) for n in range(1, min(most, QUANTITY_ROWS) + 1)]
    if most > QUANTITY_ROWS:
        rows = rows[: LIST_ROWS_MAX - 1] + [ListRow("qty:more", turn.say("more_than_ten"))]
    body = _joined(lead, turn.say("choose_quantity", item=item, price=turn.money(variant.price_minor)))
    return interactive.list_message("chat:quantity", body, turn.say("button_quantity"), rows)


def _put_in_cart(turn: Turn, variant: Variant, quantity: int) -> None:
    conversation = turn.conversation
    cart = _open_cart(conversation)
    try:
        if turn.data.get("setting") and cart is not None:
            change = carts.set_item_quantity(cart.token, variant.id, quantity)
        else:
            token = cart.token if cart is not None else carts.new_cart_token()
            change = carts.add_item(token, variant.id, quantity, start_channel="whatsapp")
    except OrderError as refused:
        _go(turn, QUANTITY)
        _ask(turn, lead=turn.say("not_added", problem=str(refused)))
        return
    conversation.cart_id = change.cart.id
    change.cart.phone = change.cart.phone or turn.row.phone
    lead = change.note.message if change.note is not None else ""
    _go(turn, NEXT, setting=False)
    _ask(turn, lead=_joined(lead, _added_words(turn, change)))


def _added_words(turn: Turn, change: carts.CartChange) -> str:
    priced = carts.price_cart(change.cart, "pickup", turn.settings)
    return turn.say(
        "added",
        quantity=change.quantity,
        item=_item_name(change.variant),
        count=carts.item_count(change.cart),
        subtotal=turn.money(priced.quote.subtotal_minor),
    )


def _next_question(turn: Turn, lead: str) -> OutboundMessage:
    buttons = [
        ("go:more", turn.say("add_more")),
        ("go:cart", turn.say("view_cart")),
        ("go:checkout", turn.say("checkout")),
    ]
    return interactive.reply_buttons("chat:next", lead or turn.say("what_next"), buttons)


def _cart_lines_text(turn: Turn, cart: Cart) -> str:
    return "\n".join(
        f"{line.quantity} × {_item_name(line.variant)} — {turn.money(line.quantity * line.variant.price_minor)}"
        for line in cart.lines
    )


def _cart_question(turn: Turn, lead: str) -> OutboundMessage:
    cart = _open_cart(turn.conversation)
    if cart is None or not cart.lines:
        _go(turn, PRODUCT, listing=_browse_listing(), offset=0)
        return _product_question(turn, _joined(lead, turn.say("cart_empty")))
    priced = carts.price_cart(cart, "pickup", turn.settings)
    body = turn.say("cart", lines=_cart_lines_text(turn, cart), subtotal=turn.money(priced.quote.subtotal_minor))
    rows = [
        ListRow(
            f"line:{line.variant_id}",
            _item_name(line.variant),
            f"{line.quantity} × {turn.money(line.variant.price_minor)}",
        )
        for line in cart.lines[:CART_ROWS_MAX]
    ]
    rows += [ListRow("go:checkout", turn.say("checkout")), ListRow("go:more", turn.say("add_more"))]
    return interactive.list_message("chat:cart", _joined(lead, body), turn.say("cart_row"), rows)


def _line_question(turn: Turn, lead: str) -> OutboundMessage:
    cart = _open_cart(turn.conversation)
    line = next((line for line in cart.lines if line.variant_id == turn.data.get("variant_id")), None) if cart else None
    if line is None:
        _go(turn, CART)
        return _cart_question(turn, lead)
    body = _joined(lead, turn.say("line_menu", item=_item_name(line.variant), quantity=line.quantity))
    buttons = [
        (f"remove:{line.variant_id}", turn.say("remove")),
        (f"change:{line.variant_id}", turn.say("change_quantity")),
        ("go:cart", turn.say("back_to_cart")),
    ]
    return interactive.reply_buttons("chat:line", body, buttons)


def _remove_line(turn: Turn, variant_id: int) -> None:
    cart = _open_cart(turn.conversation)
    change = carts.remove_item(cart.token, variant_id) if cart is not None else None
    _go(turn, CART)
    _ask(turn, lead=turn.say("removed", item=_item_name(change.variant)) if change else "")


# ---------------------------------------------------------------------------------------------------------------
# Details, the summary and the order
# ---------------------------------------------------------------------------------------------------------------


def _last_order(phone: str) -> Order | None:
    return db.session.scalar(
        select(Order).where(Order.customer_phone.in_(phone_forms(phone))).order_by(Order.created_at.desc()).limit(1)
    )


def _last_delivery_address(phone: str) -> str:
    return (
        db.session.scalar(
            select(Order.delivery_address)
            .where(Order.customer_phone.in_(phone_forms(phone)), Order.fulfilment == "delivery")
            .order_by(Order.created_at.desc())
            .limit(1)
        )
        or ""
    )


def _checkout(turn: Turn) -> None:
    cart = _open_cart(turn.conversation)
    if cart is None or not cart.lines:
        _go(turn, CART)
        _ask(turn)
        return
    _next_detail(turn)


def _next_detail(turn: Turn, lead: str = "") -> None:
    """Ask for the first detail the order still needs (the phone is the number chatting: never asked)."""
    data, settings = turn.data, turn.settings
    if not data.get("name"):
        last = _last_order(turn.row.phone)
        if last is None or not last.customer_name:
            _go(turn, NAME)
            _ask(turn, lead=lead)
            return
        _go(turn, NAME, name=last.customer_name)  # asked once: a customer who ordered before is not asked again
    if not turn.data.get("fulfilment"):
        if not settings.pickup_enabled:
            _go(turn, FULFILMENT, fulfilment="delivery")
        else:
            _go(turn, FULFILMENT)
            _ask(turn, lead=lead)
            return
    if turn.data["fulfilment"] == "delivery" and not turn.data.get("address"):
        _go(turn, ADDRESS)
        _ask(turn, lead=lead)
        return
    methods = [method for method, _label in settings.payment_choices]
    if turn.data.get("payment") not in methods:
        if len(methods) == 1:
            _go(turn, PAYMENT, payment=methods[0])
        else:
            _go(turn, PAYMENT)
            _ask(turn, lead=lead)
            return
    _go(turn, CONFIRM)
    _ask(turn, lead=lead)


def _name_question(turn: Turn, lead: str) -> OutboundMessage:
    body = _joined(lead, turn.say("ask_name"))
    whatsapp_name = " ".join((turn.conversation.name or "").split())
    if whatsapp_name and len(whatsapp_name) <= NAME_MAX:
        return interactive.reply_buttons(
            "chat:name", body, [("name:whatsapp", turn.say("use_name", name=whatsapp_name))]
        )
    return text_message("chat:name", body)


def _fulfilment_question(turn: Turn, lead: str) -> OutboundMessage:
    buttons = [("fulfil:delivery", turn.say("delivery")), ("fulfil:pickup", turn.say("pickup"))]
    return interactive.reply_buttons("chat:fulfilment", _joined(lead, turn.say("ask_fulfilment")), buttons)


def _address_question(turn: Turn, lead: str) -> OutboundMessage:
    last = _last_delivery_address(turn.row.phone)
    if not last:
        return text_message("chat:address", _joined(lead, turn.say("ask_address")))
    body = _joined(lead, turn.say("ask_address_or_last", address=last))
    return interactive.reply_buttons("chat:address", body, [("address:last", turn.say("use_last_address"))])


def _payment_question(turn: Turn, lead: str) -> OutboundMessage:
    choices = turn.settings.payment_choices
    body = _joined(lead, turn.say("ask_payment"))
    if len(choices) <= 3:
        return interactive.reply_buttons("chat:payment", body, [(f"pay:{m}", label) for m, label in choices])
    rows = [ListRow(f"pay:{method}", label) for method, label in choices]
    return interactive.list_message("chat:payment", body, turn.say("button_choose"), rows)


def _priced_for_summary(turn: Turn, cart: Cart):
    priced = carts.price_cart(cart, turn.data.get("fulfilment") or "delivery", turn.settings)
    quote, _refused = carts.with_cart_code(cart, priced.quote, turn.settings)
    return priced, quote


def _confirm_question(turn: Turn, lead: str) -> OutboundMessage:
    cart = _open_cart(turn.conversation)
    if cart is None or not cart.lines:
        _go(turn, CART)
        return _cart_question(turn, lead)
    priced, quote = _priced_for_summary(turn, cart)
    turn.conversation.flow_data = {**turn.data, "subtotal": quote.subtotal_minor}
    money = [turn.say("subtotal", amount=turn.money(quote.subtotal_minor))]
    if turn.data.get("fulfilment") == "delivery":
        money.append(turn.say("delivery_fee", amount=turn.money(quote.delivery_fee_minor)))
    discount = quote.discount_minor + quote.delivery_discount_minor
    if quote.coupon_code and discount:
        money.append(turn.say("discount", code=quote.coupon_code, amount=turn.money(discount)))
    money.append(turn.say("total", amount=turn.money(quote.total_minor)))
    if turn.data.get("fulfilment") == "delivery":
        where = turn.say("deliver_to", address=turn.data.get("address", ""))
    else:
        where = turn.say("pickup_at", address=turn.settings.pickup_address)
    lines = "\n".join(
        f"{line.quantity} × {_item_name(line.variant)} — {turn.money(line.line_total_minor)}" for line in quote.lines
    )
    notes = "\n".join(note.message for note in priced.notes)
    body = turn.say(
        "summary",
        lines=_joined(notes, lines),
        money="\n".join(money),
        fulfilment=where,
        payment=PAYMENT_METHOD_LABELS.get(turn.data.get("payment", ""), ""),
        name=turn.data.get("name", ""),
    )
    flow_id = turn.data["flow_id"]
    buttons = [(f"{CONFIRM_PREFIX}{flow_id}", turn.say("confirm")), (f"{CANCEL_PREFIX}{flow_id}", turn.say("cancel"))]
    return interactive.reply_buttons("chat:summary", _joined(lead, body), buttons)


def checkout_key(flow_id: str) -> str:
    """The placing key of a chat flow's order: a second Confirm of the same summary finds the same order."""
    return f"whatsapp:{flow_id}"[:64]


def _confirm(turn: Turn, flow_id: str) -> None:
    conversation = turn.conversation
    placed = find_order_by_checkout_key(checkout_key(flow_id))
    if placed is not None:
        turn.row.order_id = placed.id
        turn.text(turn.say("already_placed", reference=placed.reference, url=status_url(placed)))
        return
    if conversation.flow_step != CONFIRM or turn.data.get("flow_id") != flow_id:
        _ask(turn, lead=turn.say("summary_outdated"))
        return
    cart = _open_cart(conversation)
    data = turn.data
    details = CustomerDetails(
        name=data.get("name", ""),
        phone=turn.row.phone,
        fulfilment=data.get("fulfilment", ""),
        address=data.get("address", "") if data.get("fulfilment") == "delivery" else "",
        payment_method=data.get("payment", ""),
    )
    try:
        order = place_order(
            lines=carts.order_lines(cart) if cart is not None else [],
            details=details,
            settings=turn.settings,
            checkout_key=checkout_key(flow_id),
            source="whatsapp",
            expected_subtotal_minor=data.get("subtotal"),
            coupon_code=(cart.coupon_code or "") if cart is not None else "",
        )
    except PriceChanged:
        _ask(turn, lead=turn.say("prices_changed"))
        return
    except OrderError as refused:
        _go(turn, CART)
        _ask(turn, lead=turn.say("not_placed", problem=str(refused)))
        return
    carts.mark_ordered(cart.id, order.id, name=details.name, phone=details.phone)
    if order.status == OrderStatus.PENDING:
        # The customer has just confirmed in the chat: the confirmed message is the acknowledgement.
        transition(order, OrderStatus.CONFIRMED, actor="customer", note=CONFIRMED_NOTE)
    turn.row.order_id = order.id
    _leave_flow(conversation)
    conversation.cart_id = None


def _cancel(turn: Turn, flow_id: str) -> None:
    conversation = turn.conversation
    placed = find_order_by_checkout_key(checkout_key(flow_id))
    if placed is not None:
        turn.text(turn.say("already_placed", reference=placed.reference, url=status_url(placed)))
        return
    if turn.data.get("flow_id") != flow_id:
        _ask(turn, lead=turn.say("summary_outdated"))
        return
    cart = _open_cart(conversation)
    for line in list(cart.lines) if cart is not None else []:
        carts.remove_item(cart.token, line.variant_id)
    _leave_flow(conversation)
    turn.text(turn.say("cancelled"))


# ---------------------------------------------------------------------------------------------------------------
# Taps
# ---------------------------------------------------------------------------------------------------------------


def _tap(turn: Turn, reply_id: str) -> None:
    kind, _, value = reply_id.partition(":")
    step = turn.conversation.flow_step
    if reply_id.startswith(CONFIRM_PREFIX):
        _confirm(turn, reply_id[len(CONFIRM_PREFIX) :])
    elif reply_id.startswith(CANCEL_PREFIX):
        _cancel(turn, reply_id[len(CANCEL_PREFIX) :])
    elif interactive.product_id_from_row(reply_id) is not None:
        _chose_product(turn, interactive.product_id_from_row(reply_id))
    elif interactive.offset_from_more_row(reply_id) is not None and step in (PRODUCT, OPTION):
        _go(turn, step, offset=interactive.offset_from_more_row(reply_id))
        _ask(turn)
    elif kind == "cat" and value.isdigit():
        _go(turn, PRODUCT, listing={"category_id": int(value)}, offset=0)
        _ask(turn)
    elif kind == "opt" and value.isdigit() and step == OPTION:
        _chose_option(turn, int(value))
    elif kind == "qty" and step == QUANTITY:
        _tapped_quantity(turn, value)
    elif kind == "go":
        _tapped_go(turn, value)
    elif kind in ("line", "remove", "change") and value.isdigit():
        _tapped_line(turn, kind, int(value))
    elif step and _tapped_detail(turn, kind, value):
        return
    elif step:
        _ask(turn)  # a button from an earlier question: ask the current one again


def _tapped_quantity(turn: Turn, value: str) -> None:
    if value == "more":
        _go(turn, TYPED_QUANTITY)
        _ask(turn)
        return
    variant = db.session.get(Variant, turn.data.get("variant_id") or 0)
    if variant is None or not value.isdigit():
        _ask(turn)
        return
    _typed_quantity(turn, value)


def _tapped_go(turn: Turn, value: str) -> None:
    if value == "more":
        _go(turn, PRODUCT, listing=_browse_listing(), offset=0, setting=False)
        _ask(turn)
    elif value == "cart":
        _go(turn, CART)
        _ask(turn)
    elif value == "checkout":
        _go(turn, CART)
        _checkout(turn)


def _tapped_line(turn: Turn, kind: str, variant_id: int) -> None:
    if kind == "line":
        _go(turn, LINE, variant_id=variant_id)
        _ask(turn)
    elif kind == "remove":
        _remove_line(turn, variant_id)
    else:
        _go(turn, QUANTITY, variant_id=variant_id, setting=True)
        _ask(turn)


def _tapped_detail(turn: Turn, kind: str, value: str) -> bool:
    step = turn.conversation.flow_step
    if kind == "name" and step == NAME and turn.conversation.name:
        _go(turn, NAME, name=" ".join(turn.conversation.name.split())[:NAME_MAX])
    elif kind == "fulfil" and step == FULFILMENT and value in ("delivery", "pickup"):
        _go(turn, FULFILMENT, fulfilment=value)
    elif kind == "address" and step == ADDRESS and _last_delivery_address(turn.row.phone):
        _go(turn, ADDRESS, address=_last_delivery_address(turn.row.phone))
    elif kind == "pay" and step == PAYMENT and value in turn.settings.payment_methods:
        _go(turn, PAYMENT, payment=value)
    else:
        return False
    _next_detail(turn)
    return True


# ---------------------------------------------------------------------------------------------------------------
# A WhatsApp catalog cart
# ---------------------------------------------------------------------------------------------------------------


def _variant_by_sku(sku: str) -> Variant | None:
    variant = db.session.scalar(select(Variant).where(Variant.sku == sku))
    if variant is None:
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        variant = product.variants[0] if product is not None and len(product.variants) == 1 else None
    return variant


def _catalog_order(turn: Turn, order: dict) -> None:
    """A cart sent from the shop's WhatsApp catalog becomes the conversation's cart, by SKU, then the details."""
    items = [item for item in order.get("product_items") or [] if isinstance(item, dict)][:CATALOG_ITEMS_MAX]
    token, unknown, problems, cart_id = carts.new_cart_token(), [], [], None
    for item in items:
        sku = str(item.get("product_retailer_id") or "").strip()[:64]
        quantity = item.get("quantity")
        quantity = int(quantity) if str(quantity).isdigit() else 1
        variant = _variant_by_sku(sku) if sku else None
        if variant is None:
            unknown.append(sku or "?")
            continue
        try:
            change = carts.add_item(
                token, variant.id, max(1, min(quantity, MAX_LINE_QUANTITY)), start_channel="whatsapp"
            )
        except OrderError as refused:
            problems.append(str(refused))
            continue
        cart_id = change.cart.id
        if change.note is not None:
            problems.append(change.note.message)
    lead = "\n".join(([turn.say("unknown_skus", skus=", ".join(unknown))] if unknown else []) + problems)
    _leave_flow(turn.conversation)
    if cart_id is None:
        _go(turn, PRODUCT, listing=_browse_listing(), offset=0)
        _ask(turn, lead=_joined(lead, turn.say("nothing_added")))
        return
    turn.conversation.cart_id = cart_id
    db.session.get(Cart, cart_id).phone = turn.row.phone
    _go(turn, CART)
    _next_detail(turn, lead=lead)


# ---------------------------------------------------------------------------------------------------------------
# Asking the current question
# ---------------------------------------------------------------------------------------------------------------


QUESTIONS = {
    PRODUCT: _product_question,
    OPTION: _option_question,
    QUANTITY: _quantity_question,
    TYPED_QUANTITY: _quantity_question,
    NEXT: _next_question,
    CART: _cart_question,
    LINE: _line_question,
    NAME: _name_question,
    FULFILMENT: _fulfilment_question,
    ADDRESS: _address_question,
    PAYMENT: _payment_question,
    CONFIRM: _confirm_question,
}


def _ask(turn: Turn, lead: str = "") -> None:
    """Send the current step's question, after `lead` (what just happened, or why it is asked again)."""
    step = turn.conversation.flow_step
    if not step:
        _go(turn, CART)
        step = CART
    turn.replies.append(QUESTIONS[step](turn, lead))


def _joined(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
