"""When Meta refuses the shop's whole account, sending pauses, staff are told, and nothing is lost (issue 11, item 17)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Message, SendingPause, get_store_settings
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp import account_health
from tests.admin_helpers import make_staff, sign_in
from tests.messaging.conftest import move_order_to, outbox_items, outgoing_messages, place

ASHA, RAVI, MARY = "+919876543210", "+919812345678", "+254712345678"
STAFF = "+447700900123"
ACCOUNT_ERRORS = [
    ("token_expired", 190),
    ("permission_denied", 10),
    ("account_locked", 131031),
    ("account_ineligible", 131042),
    ("policy_block", 368),
]


def _pauses() -> list[SendingPause]:
    rows = list(db.session.scalars(select(SendingPause).order_by(SendingPause.id)))
    for row in rows:
        db.session.expunge(row)
    db.session.rollback()
    return rows


def _make_probe_due() -> None:
    db.session.execute(update(SendingPause).values(next_probe_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _admin_page(app) -> str:
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")
    return client.get("/admin/orders").get_data(as_text=True)


def _assert_each_message_arrived_once_in_order(graph_api) -> None:
    sent = outgoing_messages()
    for phone in {message.phone for message in sent}:
        ours = [m.wamid for m in sent if m.phone == phone]
        assert [m.wamid for m in graph_api.messages_to(phone.lstrip("+"))] == ours, (
            f"{phone}: lost, doubled or out of order"
        )
    assert len(graph_api.messages) == len(sent)


@pytest.mark.parametrize(("kind", "code"), ACCOUNT_ERRORS)
def test_an_account_error_pauses_all_sending_then_it_resumes_by_itself_and_nothing_is_lost(
    cloud, graph_api, variant_id, kind, code
):
    get_store_settings().staff_alert_numbers = [STAFF]
    db.session.commit()
    make_staff("owner")
    graph_api.refuse_account(kind)

    asha = place(variant_id, name="Asha Kumar", phone=ASHA)
    place(variant_id, name="Ravi Shah", phone=RAVI)
    place(variant_id, name="Mary Wanjiru", phone=MARY)
    outcome = outbox.run_due()

    # One refusal opens the pause; nothing else is even tried, nothing fails.
    assert outcome.get("paused") == 1 and "failed" not in outcome and "sent" not in outcome
    assert len(graph_api.requests) == 1
    [pause] = _pauses()
    assert (pause.ended_at, pause.error_code) == (None, code)
    assert {item.status for item in outbox_items()} == {"pending"}
    assert {message.status for message in outgoing_messages()} == {"queued"}
    assert all(item.attempts == 0 for item in outbox_items())  # the account's fault: no message's try counts
    alerts = [m for m in outgoing_messages() if m.purpose == "staff_alert:sending_paused"]
    assert [alert.phone for alert in alerts] == [STAFF]  # written once, waiting to go out with the rest

    # Staff see it on every admin page meanwhile.
    page = _admin_page(cloud)
    assert "WhatsApp sending is paused" in page and f"{code}: " in page

    # More work while paused waits too; the probe is not due yet.
    move_order_to(asha, OrderStatus.CONFIRMED)
    assert "sent" not in outbox.run_due() and "paused" not in outbox.run_due()
    assert outbox.probe_paused_sending() == "not due"
    assert len(graph_api.requests) == 1

    # A due try is refused again: still paused, and the next try waits twice as long.
    _make_probe_due()
    assert outbox.probe_paused_sending() == "paused"
    [pause] = _pauses()
    assert pause.ended_at is None and pause.probes == 1
    assert pause.next_probe_at > utcnow() + account_health.probe_delay(0) + timedelta(seconds=30)

    # The account works again: the next try goes out, ends the pause, and everything waiting follows.
    graph_api.refuse_account(None)
    _make_probe_due()
    assert outbox.probe_paused_sending() == "sent"
    [pause] = _pauses()
    assert pause.ended_at is not None and pause.open_slot is None
    outbox.run_due()

    assert {item.status for item in outbox_items()} == {"done"}
    assert len(outbox_items()) == 3 + 3 + 1 + 1  # confirmations, new-order alerts, Asha's update, the pause alert
    _assert_each_message_arrived_once_in_order(graph_api)
    assert len([m for m in graph_api.messages_to(STAFF.lstrip("+")) if "paused" in str(m.body)]) == 1
    assert "WhatsApp sending is paused" not in _admin_page(cloud)


def test_a_second_account_error_during_a_pause_opens_no_second_pause_and_no_second_alert(cloud, graph_api, variant_id):
    get_store_settings().staff_alert_numbers = [STAFF]
    db.session.commit()
    graph_api.refuse_account("token_expired")
    place(variant_id, phone=ASHA)
    place(variant_id, phone=RAVI)
    assert outbox.run_due().get("paused") == 1
    ravi_item = next(item for item in outbox_items() if item.ordering_key == RAVI)

    # What a worker on another host does when it had claimed Ravi's message before the pause opened.
    assert outbox.deliver(ravi_item.id, probe=True) == "paused"

    assert len(_pauses()) == 1
    assert db.session.query(Message).filter(Message.purpose == "staff_alert:sending_paused").count() == 1
    db.session.rollback()
    with pytest.raises(Exception, match="(?i)unique"):  # the database itself allows one open pause
        db.session.add(SendingPause(open_slot=account_health.OPEN, next_probe_at=utcnow()))
        db.session.commit()
    db.session.rollback()


def test_a_try_refused_for_the_message_alone_ends_the_pause_and_that_message_stays_failed(cloud, graph_api, variant_id):
    graph_api.refuse_account("token_expired")
    place(variant_id, phone=ASHA)
    place(variant_id, phone=RAVI)
    outbox.run_due()
    graph_api.refuse_account(None)
    graph_api.fail_next("undeliverable")  # Asha's number cannot receive WhatsApp: that is about her message only

    _make_probe_due()
    assert outbox.probe_paused_sending() == "failed"

    assert _pauses()[0].ended_at is not None
    outbox.run_due()
    assert [(item.ordering_key, item.status) for item in outbox_items()] == [(ASHA, "failed"), (RAVI, "done")]


def test_per_message_errors_do_not_pause_sending(cloud, graph_api, variant_id):
    graph_api.fail_next("undeliverable")
    place(variant_id, phone=ASHA)
    place(variant_id, phone=RAVI)

    assert outbox.run_due() == {"failed": 1, "sent": 1}
    assert _pauses() == []


def test_probes_back_off_up_to_the_configured_maximum(cloud):
    cloud.config.update(WHATSAPP_PAUSE_PROBE_SECONDS=60, WHATSAPP_PAUSE_PROBE_MAX_SECONDS=900)
    delays = [account_health.probe_delay(n).total_seconds() for n in range(6)]
    assert delays == [60, 120, 240, 480, 900, 900]


def test_the_try_goes_to_a_message_first_in_its_line_not_one_waiting_behind_a_retry(cloud, graph_api, variant_id):
    graph_api.fail_next("server_error")
    asha = place(variant_id, phone=ASHA)
    assert outbox.run_due() == {"retry": 1}  # Asha's first message is backing off
    move_order_to(asha, OrderStatus.CONFIRMED)  # her second waits behind it
    graph_api.refuse_account("token_expired")
    place(variant_id, phone=RAVI)
    assert outbox.run_due().get("paused") == 1
    graph_api.refuse_account(None)

    _make_probe_due()
    assert outbox.probe_paused_sending() == "sent"

    assert [m.to for m in graph_api.messages] == [RAVI.lstrip("+")]
    assert _pauses()[0].ended_at is not None
