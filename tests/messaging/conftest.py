"""Messaging fixtures: a fake Graph API on a local port, an app that sends through it, a shop to order from.

Helpers here are plain functions the messaging tests import. The ones that read the outbox end their
transaction before returning, so a worker process sharing the SQLite file is never locked out by a test.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Variant
from checkout.models.messaging import Message, OutboxItem, WebhookEvent
from checkout.orders.lifecycle import transition
from checkout.whatsapp import webhooks
from checkout.whatsapp.templates import TEMPLATES
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.graph_api import ApprovedTemplate, FakeGraphApi, LocalHttpServer, read_body, respond_json

ACCESS_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
# Room for a loaded CI machine (0.5 s timed out real sends at load 15); the fake holds a "timeout" longer.
SEND_TIMEOUT = 1.2
PUBLIC_BASE_URL = "https://shop.example"


def approved_templates() -> list[ApprovedTemplate]:
    """The templates a shop submits (README lists checkout/whatsapp/templates.py), as Meta approved them."""
    return [ApprovedTemplate(t.name, t.body, len(t.quick_replies), ("en",)) for t in TEMPLATES.values()]


def cloud_settings(graph_url: str, send_timeout: float = SEND_TIMEOUT, pacing_seconds: float = 0) -> dict:
    return {
        "WHATSAPP_PROVIDER": "cloud",
        "WHATSAPP_GRAPH_URL": graph_url,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_SEND_TIMEOUT": send_timeout,
        "WHATSAPP_TEMPLATE_LANGUAGE": "en",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        # One customer's messages are spaced by 6 s in production; the tests about pacing set their own interval,
        # the rest would only wait.
        "WHATSAPP_PACING_SECONDS": pacing_seconds,
    }


@pytest.fixture
def graph_api():
    """The fake Cloud API, listening for this test only; fails the test if it saw a request Meta would refuse."""
    fake = FakeGraphApi(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID, templates=approved_templates())
    fake.start()
    yield fake
    fake.stop()
    if fake.violations and not fake.violations_expected:
        pytest.fail(f"Meta would have refused {len(fake.violations)} request(s): {fake.violations}")


@pytest.fixture
def cloud_app(make_app, graph_api):
    return make_app(**cloud_settings(graph_api.url))


@pytest.fixture
def cloud(cloud_app):
    """An app context on the app that sends through the fake."""
    with cloud_app.app_context():
        yield cloud_app
        db.session.remove()


@pytest.fixture
def variant_id(cloud):
    make_store(name="Test Shop")
    product = make_product("Cotton Kurta", price_minor=89900, stock=500)
    return product.variants[0].id


def place(variant_id: int, *, name: str = "Asha Kumar", phone: str = "+919876543210", **details):
    """Place an order for one unit through the real use case (which commits)."""
    return make_order([(db.session.get(Variant, variant_id), 1)], details=customer(name=name, phone=phone, **details))


def move_order_to(order, status, note: str = "") -> None:
    """A staff member moves the order on; the status message is written to the outbox in the same commit."""
    transition(order, status, actor="Test Staff", note=note)
    db.session.commit()


def make_everything_due() -> None:
    """Time travel for the outbox: every pending item's backoff is over now."""
    db.session.execute(
        update(OutboxItem).where(OutboxItem.status == "pending").values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def _snapshot(query) -> list:
    """Rows as they are now, detached, with the transaction ended.

    Touching an expired row would start a new transaction, and on SQLite every transaction here begins
    IMMEDIATE: a test polling the outbox would hold the write lock and starve a worker process.
    """
    rows = list(db.session.scalars(query.execution_options(populate_existing=True)))
    for row in rows:
        db.session.expunge(row)
    db.session.rollback()
    return rows


def outbox_items() -> list[OutboxItem]:
    return _snapshot(select(OutboxItem).order_by(OutboxItem.id))


def outgoing_messages() -> list[Message]:
    return _snapshot(select(Message).where(Message.direction == "out").order_by(Message.id))


def body_parameters(received) -> list[str]:
    """The body parameters of a received template message."""
    components = received.body["template"]["components"]
    return [p["text"] for c in components if c["type"] == "body" for p in c["parameters"]]


def quick_reply_payloads(received) -> list[str]:
    components = received.body["template"]["components"]
    return [c["parameters"][0]["payload"] for c in components if c["type"] == "button"]


# ---------------------------------------------------------------------------------------------------------------
# Meta's webhooks to us
# ---------------------------------------------------------------------------------------------------------------

_inbound_ids = itertools.count(1)


def _webhook(value: dict) -> dict:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID}, **value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def status_webhook(received, status: str, error_code: int | None = None) -> dict:
    """Meta reporting on a message the fake accepted, echoing our tracking key as Meta does."""
    entry = {
        "id": received.wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": received.to,
        "biz_opaque_callback_data": received.tracking,
    }
    if error_code is not None:
        entry["errors"] = [{"code": error_code, "title": "Re-engagement message"}]
    return _webhook({"statuses": [entry]})


def inbound_webhook(digits: str, message: dict, name: str = "Asha") -> dict:
    """A message from the customer: text {"type": "text", "text": {...}} or a button tap."""
    message = {"from": digits, "id": f"wamid.IN{next(_inbound_ids):06d}", "timestamp": str(int(time.time())), **message}
    return _webhook({"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": [message]})


def receive_webhook(app, body: dict) -> None:
    """Post the body signed as Meta signs it, then process it as the worker would."""
    raw = json.dumps(body).encode()
    response = app.test_client().post(
        "/webhooks/whatsapp",
        data=raw,
        headers={"X-Hub-Signature-256": webhooks.sign(raw, app.config["WHATSAPP_APP_SECRET"])},
        content_type="application/json",
    )
    assert response.status_code == 200
    pending = db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all()
    db.session.rollback()
    assert webhooks.process_pending() == len(pending)


# ---------------------------------------------------------------------------------------------------------------
# The shop's own webhook endpoint
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ReceivedWebhook:
    headers: dict
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw)


@dataclass
class ShopWebhookReceiver:
    """A shop's endpoint for Chatout's webhooks: records each POST; answers 500 to the next `failures` POSTs."""

    failures: int = 0
    received: list[ReceivedWebhook] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server = LocalHttpServer(self._handle)

    @property
    def url(self) -> str:
        return self._server.url + "/hooks/chatout"

    def start(self) -> None:
        self._server.up()

    def stop(self) -> None:
        self._server.down()

    def _handle(self, request) -> None:
        raw = read_body(request)
        with self._lock:
            self.attempts += 1
            failing = self.failures > 0
            self.failures -= failing
            if not failing:
                self.received.append(ReceivedWebhook(dict(request.headers), raw))
        respond_json(request, 500 if failing else 200, {"ok": not failing})


@pytest.fixture
def shop_webhooks():
    receiver = ShopWebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
