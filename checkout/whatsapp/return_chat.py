"""A return in the chat: "something is wrong with my order", from the customer's words to a request for staff.

    "problem" / "return" / the delivered message's button ──▶ reason (a list)
    reason ──▶ photos: every picture or document sent now is kept for the request ──Done, or a few words──▶
    the request (checkout/orders/returns.py), the customer told it is with staff, the chat waiting for a person

After the shop's return window (or with returns off) there is no flow: the chat goes to a person, politely.
Like the ordering chat (chat_order.py), it runs inside the webhook's transaction with the conversation row
locked, keeps its step in the conversation's flow step and data, and answers through the outbox keyed by the
inbound message, so a webhook Meta sends twice is answered once. Buttons carry the flow's id: a button from
an earlier flow, or one tapped twice, gets a polite word and changes nothing.
"""

import secrets
from datetime import timedelta

from checkout.database import utcnow
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message
from checkout.models.orders import Order
from checkout.models.returns import RETURN_REASONS, ReturnRequest
from checkout.models.store import get_store_settings
from checkout.orders import locks, returns
from checkout.orders.lifecycle import OrderStatus
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.whatsapp import chats, interactive
from checkout.whatsapp.intents import wants_to_stop_ordering
from checkout.whatsapp.interactive import ListRow
from checkout.whatsapp.messages import RETURN_PREFIX, OutboundMessage, text_message

REASON, PHOTOS = "return_reason", "return_photos"
STEPS = frozenset({REASON, PHOTOS})
REASON_PREFIX, DONE_PREFIX = "rreason:", "rdone:"
IDLE_AFTER = timedelta(hours=24)


def in_flow(conversation: Conversation | None) -> bool:
    """Is this chat in the middle of a return (and not idle for a day)?"""
    if conversation is None or conversation.flow_step not in STEPS:
        return False
    touched = conversation.flow_touched_at
    if touched is None or touched < utcnow() - IDLE_AFTER:
        conversation.flow_step, conversation.flow_data = "", {}
        return False
    return True


def takes_reply(reply_id: str, conversation: Conversation | None) -> bool:
    """A tap this module answers: its own buttons, or any tap while a return is under way."""
    return reply_id.startswith((RETURN_PREFIX, REASON_PREFIX, DONE_PREFIX)) or in_flow(conversation)


# ---------------------------------------------------------------------------------------------------------------
# The ways in
# ---------------------------------------------------------------------------------------------------------------


def start_for_latest_order(row: Message, conversation: Conversation | None) -> None:
    """The customer wrote "problem" or "return": about their latest delivered order."""
    if not _bot_answers(conversation) or not row.phone:
        return
    latest = returns.latest_delivered_order(row.phone)
    order = locks.lock_order(latest.id) if latest is not None else None
    if order is None:
        chats.hand_to_person(conversation, "The customer reported a problem but has no delivered order")
        _reply(row, "We couldn't find a delivered order from this number. Someone from our team will reply here.")
        return
    _start(row, conversation, order)


def start_for_order(row: Message, conversation: Conversation | None, order: Order) -> None:
    """The customer sent the status page's return link for this order (theirs: the caller checked the number)."""
    if _bot_answers(conversation) and row.phone:
        _start(row, conversation, order)


def tap(row: Message, conversation: Conversation | None, reply_id: str) -> None:
    """A button or list row of the return flow (or any tap while it runs)."""
    if reply_id.startswith(RETURN_PREFIX):
        _tapped_return(row, conversation, reply_id.removeprefix(RETURN_PREFIX).strip().upper())
    elif reply_id.startswith(REASON_PREFIX):
        flow_id, _, reason = reply_id.removeprefix(REASON_PREFIX).partition(":")
        _tapped_reason(row, conversation, flow_id, reason)
    elif reply_id.startswith(DONE_PREFIX):
        _tapped_done(row, conversation, reply_id.removeprefix(DONE_PREFIX))
    elif in_flow(conversation):
        _ask_again(row, conversation, "That button belongs to an earlier message.")


def typed(row: Message, conversation: Conversation, text: str) -> None:
    """Words typed during the flow: "cancel" leaves it; at the reason, the words are the reason ("other"); at the
    photos, they are the customer's comment and finish the request."""
    data = conversation.flow_data or {}
    if wants_to_stop_ordering(text):
        _leave(conversation)
        _reply(row, "All right, nothing was sent. Write “problem” any time if something is wrong with an order.")
        return
    if conversation.flow_step == REASON:
        _go(conversation, PHOTOS, reason="other", comment=text)
        _send(row, _photos_question(conversation, "Thank you."))
        return
    comment = "\n".join(part for part in (data.get("comment", ""), text) if part)
    _go(conversation, PHOTOS, comment=comment)
    _submit(row, conversation)


def media_sent(row: Message, conversation: Conversation | None) -> bool:
    """A picture or document sent while the flow waits for photos: kept for the request. True when it was."""
    if not in_flow(conversation) or conversation.flow_step != PHOTOS or row.media is None:
        return False
    photos = list((conversation.flow_data or {}).get("photos") or [])
    if len(photos) < returns.PHOTOS_MAX and row.media.id not in photos:
        photos.append(row.media.id)
    _go(conversation, PHOTOS, photos=photos)
    if len(photos) == 1:  # one answer, not one per picture of an album
        _send(row, _photos_question(conversation, "Got it. Send any more photos, then tap Done."))
    return True


# ---------------------------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------------------------


def _start(row: Message, conversation: Conversation, order: Order) -> None:
    settings = get_store_settings()
    if order.status != OrderStatus.DELIVERED:
        _reply(row, f"Order {order.reference} is not delivered yet. Write “where is my order” to see where it is.")
        return
    existing = returns.open_return_of(order)
    if existing is not None:
        _reply(row, f"Your return for order {order.reference} is already with our team: {_where(existing)}")
        return
    if not returns.eligibility(order, settings).open_at(utcnow()):
        _after_the_window(row, conversation, order, settings.return_window_days or 0)
        return
    _leave(conversation)
    _go(conversation, REASON, order_id=order.id, reference=order.reference)
    body = f"Sorry something is wrong with order {order.reference}. What happened?"
    _send(row, _reasons_question(conversation, body))


def _after_the_window(row: Message, conversation: Conversation, order: Order, window_days: int) -> None:
    """No flow: a person answers. The ask is kept on the order once, for the person who picks it up."""
    _leave(conversation)
    already = any(r.status == "sent_to_person" for r in returns.returns_of(order))
    if not already:
        returns.send_to_person(order, comment=row.body_text or "")
    chats.hand_to_person(conversation, f"Return asked after the return window (order {order.reference})")
    why = (
        f"Order {order.reference} was delivered more than {window_days} days ago, past our return window"
        if window_days
        else "Returns are handled by our team"
    )
    _reply(row, f"{why}, so we can't start a return here. Someone from our team will reply to you here shortly.")


def _tapped_return(row: Message, conversation: Conversation | None, reference: str) -> None:
    if not _bot_answers(conversation):
        return
    order = locks.lock_order_by_reference(reference)
    if order is None or order.customer_phone not in phone_forms(row.phone) or order.status != OrderStatus.DELIVERED:
        # Someone else's order and no order at all get the same words, so a stranger learns nothing.
        _reply(row, "We couldn't find that delivered order for this number. Write “problem” to start again.")
        return
    _start(row, conversation, order)


def _tapped_reason(row: Message, conversation: Conversation | None, flow_id: str, reason: str) -> None:
    if not _current(conversation, flow_id, REASON) or reason not in RETURN_REASONS:
        _stale(row, conversation)
        return
    _go(conversation, PHOTOS, reason=reason)
    _send(row, _photos_question(conversation, f"{returns.REASON_LABELS[reason]}: noted."))


def _tapped_done(row: Message, conversation: Conversation | None, flow_id: str) -> None:
    if not _current(conversation, flow_id, PHOTOS):
        _stale(row, conversation)
        return
    _submit(row, conversation)


def _submit(row: Message, conversation: Conversation) -> None:
    """Done: the request is made for staff, the customer told, the chat waits for a person."""
    data = dict(conversation.flow_data or {})
    _leave(conversation)
    order = locks.lock_order(int(data.get("order_id") or 0))
    if order is None or order.status != OrderStatus.DELIVERED:
        _reply(row, "Sorry, we couldn't file that return. Someone from our team will reply here.")
        chats.hand_to_person(conversation, "A return could not be filed in the chat")
        return
    existing = returns.open_return_of(order)
    if existing is not None:
        _reply(row, f"Your return for order {order.reference} is already with our team: {_where(existing)}")
        return
    request = returns.create_request(
        order,
        reason=data.get("reason") or "other",
        comment=data.get("comment") or "",
        media_file_ids=data.get("photos") or [],
    )
    photos = f" with {len(request.photos)} photo(s)" if request.photos else ""
    _reply(
        row,
        f"Thank you. Your return request for order {order.reference}{photos} is with our team. "
        "We will reply here once someone has looked at it.",
    )
    chats.hand_to_person(conversation, f"Return requested for order {order.reference}")


def _stale(row: Message, conversation: Conversation | None) -> None:
    """A button from an earlier flow or tapped twice: nothing changes, and the customer hears where things are."""
    if in_flow(conversation):
        _ask_again(row, conversation, "That button belongs to an earlier message.")
        return
    _reply(row, "That button belongs to an earlier message, so nothing changed. Write “problem” to start a return.")


def _ask_again(row: Message, conversation: Conversation, lead: str) -> None:
    if conversation.flow_step == PHOTOS:
        _send(row, _photos_question(conversation, lead))
        return
    reference = (conversation.flow_data or {}).get("reference", "")
    _send(row, _reasons_question(conversation, f"{lead} What happened with order {reference}?"))


def _reasons_question(conversation: Conversation, body: str) -> OutboundMessage:
    """The reasons as a list, labelled as staff see them; each row names this flow, so an older list's tap is stale."""
    flow_id = (conversation.flow_data or {})["flow_id"]
    rows = [ListRow(f"{REASON_PREFIX}{flow_id}:{key}", label) for key, label in returns.REASON_LABELS.items()]
    return interactive.list_message("return:reasons", body, "Choose a reason", rows)


def _photos_question(conversation: Conversation, lead: str) -> OutboundMessage:
    flow_id = (conversation.flow_data or {})["flow_id"]
    body = (
        f"{lead}\n\nPlease send photos of the item (and its packaging) here, then tap Done. "
        "You can also type a few words about what is wrong."
    )
    return interactive.reply_buttons("return:photos", body, [(f"{DONE_PREFIX}{flow_id}", "Done")])


def _where(request: ReturnRequest) -> str:
    return returns.STATUS_LABELS[request.status].lower() + "."


# ---------------------------------------------------------------------------------------------------------------
# The flow's state and the replies
# ---------------------------------------------------------------------------------------------------------------


def _bot_answers(conversation: Conversation | None) -> bool:
    return conversation is not None and conversation.handled_by == chats.BOT


def _current(conversation: Conversation | None, flow_id: str, step: str) -> bool:
    return in_flow(conversation) and conversation.flow_step == step and conversation.flow_data.get("flow_id") == flow_id


def _go(conversation: Conversation, step: str, **data) -> None:
    flow = dict(conversation.flow_data or {})
    flow.setdefault("flow_id", secrets.token_hex(8))
    flow.update(data)
    conversation.flow_step, conversation.flow_data = step, flow
    conversation.flow_touched_at = utcnow()
    conversation.misunderstood = 0


def _leave(conversation: Conversation) -> None:
    conversation.flow_step, conversation.flow_data = "", {}


def _reply(row: Message, text: str) -> None:
    _send(row, text_message("return:text", text))


def _send(row: Message, outbound: OutboundMessage) -> None:
    """The one answer to an inbound message (keyed by it: a webhook Meta sends twice is answered once)."""
    if row.phone:
        enqueue_whatsapp(outbound, phone=row.phone, key=f"return:{row.wamid}")
