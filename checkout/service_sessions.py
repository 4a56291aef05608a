"""Paid service sessions: time a staff member gives a customer in the WhatsApp chat, bought as a "service" product.

A payment that settles an order with service lines opens the order's one session, waiting: the first staff
reply in the inbox starts it (the customer's wait is not charged), and it runs for the minutes bought. When it
runs out the sweep ends it and asks the customer to renew (a new paid order); until that order is paid, staff
replies to the customer are refused. Only staff whose role may run sessions answer in one.

Subscribed to "payment.recorded" (registered by the app factory): the session is written in the payment's own
transaction, so it exists exactly when the payment does.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from checkout import events
from checkout.catalog.values import format_duration
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.catalog import Product, ProductKind, Variant
from checkout.models.orders import Order
from checkout.models.service_sessions import ServiceSession
from checkout.models.staff import StaffUser
from checkout.models.store import get_store_settings
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.staff.permissions import Permission, role_allows
from checkout.web.urls import external_url, status_url
from checkout.whatsapp import chats
from checkout.whatsapp.conversation_window import in_window
from checkout.whatsapp.limits import CTA_URL_SCHEMES, check_payload
from checkout.whatsapp.messages import OutboundMessage, staff_update_template
from checkout.whatsapp.providers import messaging_enabled

WAITING, RUNNING, ENDED = "waiting", "running", "ended"
RENEWAL_PURPOSE = "session_renewal"
RENEW_BUTTON_TEXT = "Renew session"
SWEEP_BATCH = 200


class SessionRefused(Exception):
    """A staff reply the customer's paid session does not allow; `message` says why, for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SessionEnded(SessionRefused):
    def __init__(self):
        super().__init__(
            "Session ended — waiting for renewal. The customer is asked on WhatsApp to renew (a new paid "
            "order); you can reply again once it is paid."
        )


class NotAllowedToRunSessions(SessionRefused):
    def __init__(self):
        super().__init__(
            "This customer is in a paid session, and your role may not run sessions. Ask the shop owner, or assign "
            "the chat to someone who may."
        )


@dataclass(frozen=True)
class SessionState:
    """Where a customer's latest session stands, as the inbox shows it."""

    session: ServiceSession
    state: str  # waiting, running or ended
    seconds_left: int  # the whole paid time while waiting; 0 once ended

    @property
    def ends_at_iso(self) -> str:
        return self.session.ends_at.isoformat() if self.session.ends_at else ""


def format_time_left(seconds: int) -> str:
    """3599 → '59:59', 3725 → '1:02:05': the time left as the inbox shows it (and its script counts down)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def state_of(session: ServiceSession, now: datetime) -> SessionState:
    if session.started_at is None:
        return SessionState(session, WAITING, session.minutes * 60)
    left = int((session.ends_at - now).total_seconds())
    if session.ended_at is not None or left <= 0:
        return SessionState(session, ENDED, 0)
    return SessionState(session, RUNNING, left)


# ---------------------------------------------------------------------------------------------------------------
# Paid: the session opens, waiting for the first staff reply
# ---------------------------------------------------------------------------------------------------------------


def service_minutes(order: Order) -> int:
    """The minutes the order bought: each service line's duration times its quantity (0 with no service)."""
    variant_ids = [line.variant_id for line in order.lines if line.variant_id is not None]
    if not variant_ids:
        return 0
    durations = dict(
        db.session.execute(
            select(Variant.id, Product.duration_minutes)
            .join(Product, Product.id == Variant.product_id)
            .where(Variant.id.in_(variant_ids), Product.kind == ProductKind.SERVICE)
        ).all()
    )
    return sum((durations.get(line.variant_id) or 0) * line.quantity for line in order.lines)


def session_of(order: Order) -> ServiceSession | None:
    return db.session.scalar(select(ServiceSession).where(ServiceSession.order_id == order.id))


@events.subscribe(events.PAYMENT_RECORDED)
def open_session_when_paid(order: Order, payment, tell_customer: bool = True) -> ServiceSession | None:
    """Paid in full, with service lines: the order's one session, waiting (a second payment opens none)."""
    if order.payment_status != "paid" or order.status == OrderStatus.CANCELLED or session_of(order) is not None:
        return None
    minutes = service_minutes(order)
    if not minutes:
        return None
    session = ServiceSession(order_id=order.id, customer_phone=order.customer_phone, minutes=minutes)
    db.session.add(session)
    note = f"Paid session of {format_duration(minutes)}: it starts with the first staff reply in the inbox"
    record_event(order, "session", "system", note=note)
    return session


# ---------------------------------------------------------------------------------------------------------------
# Staff reply: the first one starts the session; none after it ends
# ---------------------------------------------------------------------------------------------------------------


def latest_session(phone: str) -> ServiceSession | None:
    """The customer's latest paid session (their number in any of its stored forms), or None.

    A session whose order was cancelled (and so refunded or owed back) no longer counts.
    """
    forms = phone_forms(phone)
    if not forms:
        return None
    query = (
        select(ServiceSession)
        .join(Order, Order.id == ServiceSession.order_id)
        .where(ServiceSession.customer_phone.in_(forms), Order.status != OrderStatus.CANCELLED)
        .order_by(ServiceSession.id.desc())
    )
    return db.session.scalar(query.limit(1))


def session_state(phone: str, now: datetime | None = None) -> SessionState | None:
    session = latest_session(phone)
    return state_of(session, now or utcnow()) if session is not None else None


def _lock(session_id: int) -> ServiceSession:
    query = select(ServiceSession).where(ServiceSession.id == session_id).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def claim_for_reply(phone: str, staff: StaffUser, now: datetime | None = None) -> ServiceSession | None:
    """Inside a staff reply's transaction: may `staff` answer this customer now? Starts a waiting session.

    A customer who never paid for a session is answered as ever (None). Otherwise the session is locked: ended →
    SessionEnded; a role that may not run sessions → NotAllowedToRunSessions; waiting → it starts now, for its
    minutes, signed by `staff`. Two first replies at once start it once.
    """
    found = latest_session(phone)
    if found is None:
        return None
    session = _lock(found.id)
    now = now or utcnow()
    if state_of(session, now).state == ENDED:
        raise SessionEnded()
    if not role_allows(staff.role, Permission.RUN_SESSIONS):
        raise NotAllowedToRunSessions()
    if session.started_at is None:
        session.started_at, session.ends_at = now, now + timedelta(minutes=session.minutes)
        session.staff_user_id, session.staff_name = staff.id, staff.name[:80]
        note = f"Session of {format_duration(session.minutes)} started by {staff.name}'s first reply"
        record_event(session.order, "session", staff.name, note=note, staff_user_id=staff.id)
    return session


# ---------------------------------------------------------------------------------------------------------------
# Time's up: the sweep ends sessions and asks to renew
# ---------------------------------------------------------------------------------------------------------------


def _renewal_product(order: Order) -> Product | None:
    variant_ids = [line.variant_id for line in order.lines if line.variant_id is not None]
    return db.session.scalar(
        select(Product)
        .join(Variant, Variant.product_id == Product.id)
        .where(Variant.id.in_(variant_ids), Product.kind == ProductKind.SERVICE)
        .limit(1)
    )


def renewal_message(order: Order, *, renew_url: str, service_name: str) -> OutboundMessage:
    """Inside the 24-hour window: the renewal ask with a call-to-action button to the service's page."""
    body = (
        f"Your paid session ({service_name}, order {order.reference}) has ended. To continue, renew it: tap the "
        f"button to order it again, or write “{service_name}” here to order it in this chat. We carry on as soon "
        "as it is paid."
    )
    if not renew_url.startswith(CTA_URL_SCHEMES):  # a development address (http://): a link in the text
        text = f"{body}\n{renew_url}"
        payload = {"type": "text", "text": {"body": text, "preview_url": True}}
        message = OutboundMessage(RENEWAL_PURPOSE, payload, text)
    else:
        payload = {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": body},
                "action": {"name": "cta_url", "parameters": {"display_text": RENEW_BUTTON_TEXT, "url": renew_url}},
            },
        }
        message = OutboundMessage(RENEWAL_PURPOSE, payload, f"{body}\n[{RENEW_BUTTON_TEXT}: {renew_url}]")
    check_payload(message.payload)
    return message


def _ask_to_renew(session: ServiceSession) -> None:
    order = session.order
    if not messaging_enabled():
        return
    product = _renewal_product(order)
    if product is not None and product.is_sellable:
        renew_url, name = external_url("storefront.product_page", slug=product.slug), product.name
    else:
        renew_url, name = external_url("storefront.catalog_page"), order.lines[0].product_name
    if in_window(order.customer_phone):
        outbound = renewal_message(order, renew_url=renew_url, service_name=name[:120])
    else:  # only a template may go: the order update, with the renewal link in its words
        words = f"Your paid session has ended. To continue, renew it here: {renew_url}"
        language = chats.template_language_for(order.customer_phone)
        template = staff_update_template(
            order, get_store_settings(), words, status_url=status_url(order), language=language
        )
        outbound = replace(template, purpose=RENEWAL_PURPOSE)
    enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"session-renewal:{session.id}", order=order)


def end_expired_sessions(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Sessions whose time ran out end once, and their customers are asked once to renew (however many sweep)."""
    now = now or utcnow()
    query = (
        select(ServiceSession)
        .where(ServiceSession.ended_at.is_(None), ServiceSession.ends_at <= now)
        .order_by(ServiceSession.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ended = 0
    for session in db.session.scalars(query.execution_options(populate_existing=True)):
        session.ended_at = now
        if session.order.status == OrderStatus.CANCELLED:
            record_event(session.order, "session", "system", note="Session time ran out (the order was cancelled)")
            ended += 1
            continue
        _ask_to_renew(session)
        note = "Session time ran out: the customer was asked on WhatsApp to renew"
        record_event(session.order, "session", "system", note=note)
        ended += 1
    db.session.commit()
    return ended


def session_for_order_page(order: Order, now: datetime | None = None) -> SessionState | None:
    """The order's session as its admin page shows it. Every session leaves a "session" event on the timeline
    the page reads anyway, so an order without one costs no query."""
    if not any(event.kind == "session" for event in order.events):
        return None
    session = session_of(order)
    return state_of(session, now or utcnow()) if session is not None else None
