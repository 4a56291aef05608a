"""The outbox keeps its promises: nothing lost in an outage, nothing sent twice, each customer's messages in order."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Message, OutboxItem, Variant, get_store_settings
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp import messages
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads
from tests.messaging.conftest import (
    cloud_settings,
    make_everything_due,
    move_order_to,
    outbox_items,
    outgoing_messages,
    place,
    receive_webhook,
    status_webhook,
)

ASHA, RAVI, MARY = "+919876543210", "+919812345678", "+254712345678"
STAFF = "+447700900123"


def _pending_heads() -> int:
    """How many customers have something waiting: only the oldest item of each may be tried."""
    keys = db.session.scalars(select(OutboxItem.ordering_key).where(OutboxItem.status == "pending").distinct())
    count = len(list(keys))
    db.session.rollback()
    return count


def _assert_each_message_arrived_once_in_order(graph_api) -> None:
    sent = outgoing_messages()
    by_phone: dict[str, list[Message]] = {}
    for message in sent:
        by_phone.setdefault(message.phone, []).append(message)
    for phone, rows in by_phone.items():
        received = graph_api.messages_to(phone.lstrip("+"))
        assert [m.wamid for m in received] == [row.wamid for row in rows], f"{phone} got messages out of order"
        assert [m.tracking for m in received] == [_key_of(row) for row in rows]
    assert len(graph_api.messages) == len(sent) == len({m.wamid for m in graph_api.messages})


def _key_of(message: Message) -> str:
    key = db.session.scalar(select(OutboxItem.idempotency_key).where(OutboxItem.message_id == message.id))
    db.session.rollback()
    return key


# ---------------------------------------------------------------------------------------------------------------
# An outage
# ---------------------------------------------------------------------------------------------------------------


def test_messages_written_during_an_outage_all_arrive_once_and_in_order_after_it(graph_api, variant_id):
    settings = get_store_settings()
    settings.staff_alert_numbers = [STAFF]
    db.session.commit()
    graph_api.down()

    asha = place(variant_id, name="Asha Kumar", phone=ASHA)
    ravi = place(variant_id, name="Ravi Shah", phone=RAVI)
    outcome = outbox.run_due()
    assert "sent" not in outcome and outcome["retry"] == 3  # Asha's, Ravi's and the staff's first message

    move_order_to(asha, OrderStatus.CONFIRMED)
    mary = place(variant_id, name="Mary Wanjiru", phone=MARY)
    move_order_to(ravi, OrderStatus.CANCELLED, note="Customer asked on the phone")
    make_everything_due()
    outcome = outbox.run_due()
    assert "sent" not in outcome and outcome["retry"] == _pending_heads() == 4

    move_order_to(asha, OrderStatus.PREPARING)
    move_order_to(mary, OrderStatus.CONFIRMED)
    second_from_mary = place(variant_id, name="Mary Wanjiru", phone=MARY)
    move_order_to(mary, OrderStatus.PREPARING)
    graph_api.up()
    graph_api.fail_next("server_error", times=4)  # back, but still failing for a moment
    make_everything_due()
    outcome = outbox.run_due()
    assert "sent" not in outcome and outcome["retry"] == 4
    assert graph_api.messages == []
    assert {item.status for item in outbox_items()} == {"pending"}
    assert len(outbox_items()) == 13  # nothing lost, nothing doubled while failing

    make_everything_due()
    outcome = outbox.run_due()

    assert outcome.get("sent") == 13
    assert {item.status for item in outbox_items()} == {"done"}
    assert not any(item.in_doubt for item in outbox_items())  # refused and 500: Meta surely never had them
    _assert_each_message_arrived_once_in_order(graph_api)
    heads = [item for item in outbox_items() if item.attempts > 1]
    assert sorted(item.attempts for item in heads) == [3, 4, 4, 4]  # the oldest item of each customer
    purposes_to_mary = [
        m.purpose for m in outgoing_messages() if m.phone == MARY and m.order_id in (mary.id, second_from_mary.id)
    ]
    assert purposes_to_mary == ["order_confirmation", "status:confirmed", "order_confirmation", "status:preparing"]


def test_a_customer_whose_oldest_message_keeps_failing_gets_nothing_out_of_turn(graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    move_order_to(order, OrderStatus.CONFIRMED)
    graph_api.fail_next("throttled", times=2)

    assert outbox.run_due() == {"retry": 1, "skipped": 2}
    make_everything_due()
    assert outbox.run_due() == {"retry": 1, "skipped": 2}
    make_everything_due()
    assert outbox.run_due() == {"sent": 2}

    _assert_each_message_arrived_once_in_order(graph_api)


# ---------------------------------------------------------------------------------------------------------------
# Exactly once
# ---------------------------------------------------------------------------------------------------------------


def test_enqueueing_with_the_same_key_twice_makes_one_item(graph_api, variant_id):
    hello = messages.text_message("test", "Hello from the shop")

    first = outbox.enqueue_whatsapp(hello, phone=ASHA, key="hello:1")
    again_in_same_transaction = outbox.enqueue_whatsapp(hello, phone=ASHA, key="hello:1")
    db.session.commit()
    again_later = outbox.enqueue_whatsapp(hello, phone=ASHA, key="hello:1")
    db.session.commit()
    for _ in range(2):
        outbox.enqueue_shop_webhook("order.created", {"n": 1}, url="http://127.0.0.1:9/h", secret="s", key="hook:1")
        db.session.commit()

    assert again_in_same_transaction is first
    assert again_later.id == first.id
    assert sorted(item.idempotency_key for item in outbox_items()) == ["hello:1", "hook:1"]
    assert db.session.scalar(select(func.count(Message.id))) == 1


def test_placing_the_same_checkout_twice_sends_one_confirmation(graph_api, variant_id):
    variant = db.session.get(Variant, variant_id)
    first = make_order([(variant, 1)], details=customer(phone=ASHA), checkout_key="cart-123")
    second = make_order([(variant, 1)], details=customer(phone=ASHA), checkout_key="cart-123")

    assert outbox.run_due() == {"sent": 1}
    assert first.id == second.id
    assert len(graph_api.messages) == 1


def _race(app, count, work):
    """Run `work()` in `count` threads released at the same instant, each in its own app context."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(work())
            except Exception as error:  # reported by the assertion below, with the error itself
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks (FOR UPDATE SKIP LOCKED) are exercised on PostgreSQL")
def test_two_workers_delivering_the_same_item_at_once_send_it_once(cloud, graph_api, variant_id):
    for phone in (ASHA, RAVI, MARY):
        place(variant_id, phone=phone)
    ids = [item.id for item in outbox_items()]
    db.session.remove()
    graph_api.slow = 0.2  # the first worker is still sending while the others look

    for item_id in ids:
        outcomes = _race(cloud, 4, lambda item_id=item_id: outbox.deliver(item_id))
        assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]

    assert len(graph_api.messages) == 3
    assert {item.status for item in outbox_items()} == {"done"}


def _kill_mid_send(item: OutboxItem, *, claim_left: timedelta) -> None:
    """What a worker leaves behind when it is killed mid-send: claimed, one attempt counted, never recorded."""
    started = utcnow() + claim_left - timedelta(seconds=outbox.CLAIM_SECONDS)
    item.attempts, item.last_attempt_at, item.claimed_until = (
        1,
        started,
        started + timedelta(seconds=outbox.CLAIM_SECONDS),
    )
    db.session.add(item)
    db.session.commit()


def test_an_item_whose_worker_died_waits_for_meta_and_holds_back_no_later_message(graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    move_order_to(order, OrderStatus.CONFIRMED)
    dead, waiting = outbox_items()
    _kill_mid_send(dead, claim_left=timedelta(seconds=outbox.CLAIM_SECONDS))

    assert outbox.due_item_ids() == [waiting.id]  # the claim is live: nobody else may take it
    assert outbox.run_due() == {"skipped": 1}  # and the customer's next message waits its turn

    _kill_mid_send(dead, claim_left=timedelta(seconds=-1))  # the claim runs out
    assert outbox.due_item_ids() == [dead.id, waiting.id]
    # WhatsApp may have the dead worker's send: it waits for the status webhook; the next message goes.
    assert outbox.run_due() == {"in doubt": 1, "sent": 1}
    dead, waiting = outbox_items()
    assert (dead.status, dead.in_doubt, dead.attempts, waiting.status) == ("pending", True, 1, "done")
    wait = timedelta(seconds=600)
    assert dead.next_attempt_at - dead.last_attempt_at == wait
    assert [m.tracking for m in graph_api.messages] == [waiting.idempotency_key]

    # No status webhook came within the wait: it was most likely lost with the worker, so it is sent now, once.
    make_everything_due()
    assert outbox.run_due() == {"sent": 1}
    assert [m.tracking for m in graph_api.messages] == [waiting.idempotency_key, dead.idempotency_key]
    assert [item.attempts for item in outbox_items()] == [2, 1]


def test_a_send_by_a_killed_worker_that_meta_reports_is_never_sent_again(cloud, graph_api, variant_id):
    place(variant_id, phone=ASHA)
    [item] = outbox_items()
    _kill_mid_send(item, claim_left=timedelta(seconds=-1))
    assert outbox.run_due() == {"in doubt": 1}
    [item] = outbox_items()
    assert (item.status, item.in_doubt) == ("pending", True)

    wamid = "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQUJDREVGMDEyMzQ1Njc4OQA="
    receive_webhook(cloud, payloads.status(wamid, "delivered", ASHA.lstrip("+"), opaque=item.idempotency_key))

    [item] = outbox_items()
    assert item.status == "done"
    [message] = outgoing_messages()
    assert (message.wamid, message.status) == (wamid, "delivered")
    make_everything_due()
    assert outbox.run_due() == {}
    assert graph_api.requests == []


def test_a_send_that_timed_out_waits_for_the_status_webhook_and_is_not_sent_again(cloud, graph_api, variant_id):
    place(variant_id, phone=ASHA)
    graph_api.fail_next("timeout", delay=2.0, accepted=True)  # Meta took it; we never heard back

    assert outbox.run_due() == {"retry": 1}
    [item] = outbox_items()
    assert (item.status, item.in_doubt) == ("pending", True)
    assert item.next_attempt_at - item.last_attempt_at == timedelta(seconds=600)  # not 5 s
    assert outbox.run_due() == {}
    [received] = graph_api.wait_for_messages(1, timeout=5)

    receive_webhook(cloud, status_webhook(received, "sent"))

    [item] = outbox_items()
    assert item.status == "done"
    [message] = outgoing_messages()
    assert (message.wamid, message.status) == (received.wamid, "sent")
    make_everything_due()
    assert outbox.run_due() == {}
    receive_webhook(cloud, status_webhook(received, "delivered"))
    [message] = outgoing_messages()
    assert message.status == "delivered"
    assert len(graph_api.messages) == 1


def test_the_wait_for_a_status_webhook_is_a_setting(make_app, graph_api):
    app = make_app(**cloud_settings(graph_api.url), WHATSAPP_IN_DOUBT_WAIT_SECONDS=30)
    with app.app_context():
        make_store(name="Test Shop")
        place(make_product(stock=5).variants[0].id, phone=ASHA)
        graph_api.fail_next("disconnect", accepted=True)  # the answer was lost after Meta took it
        assert outbox.run_due() == {"retry": 1}
        [item] = outbox_items()
        assert item.in_doubt and item.next_attempt_at - item.last_attempt_at == timedelta(seconds=30)
        db.session.remove()


def test_meta_reporting_a_send_in_doubt_as_failed_settles_it_without_sending_it_again(cloud, graph_api, variant_id):
    place(variant_id, phone=ASHA)
    graph_api.fail_next("timeout", delay=2.0, accepted=True)
    assert outbox.run_due() == {"retry": 1}
    [received] = graph_api.wait_for_messages(1, timeout=5)

    receive_webhook(cloud, status_webhook(received, "failed", error_code=131026))

    [item] = outbox_items()
    assert (item.status, item.last_error) == ("failed", "131026: Re-engagement message")
    make_everything_due()
    assert outbox.run_due() == {}
    assert len(graph_api.messages) == 1


def test_a_customers_later_message_does_not_wait_behind_a_send_in_doubt(cloud, graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    graph_api.fail_next("timeout", delay=2.0, accepted=True)
    assert outbox.run_due() == {"retry": 1}

    move_order_to(order, OrderStatus.CONFIRMED)
    assert outbox.run_due() == {"sent": 1}

    names = [m.body["template"]["name"] for m in graph_api.wait_for_messages(2, timeout=5)]
    assert sorted(names) == ["order_confirmation", "order_update"]


# ---------------------------------------------------------------------------------------------------------------
# The shop's own webhooks
# ---------------------------------------------------------------------------------------------------------------


def test_shop_webhooks_are_signed_in_order_and_retried_until_the_shop_answers(graph_api, variant_id, shop_webhooks):
    settings = get_store_settings()
    settings.webhook_url, settings.webhook_secret = shop_webhooks.url, "whsec_test_secret"
    db.session.commit()
    shop_webhooks.failures = 1

    order = place(variant_id, phone=ASHA)
    move_order_to(order, OrderStatus.CONFIRMED)
    assert outbox.run_due() == {"retry": 1, "sent": 2, "skipped": 2}  # the status hook waits for the first
    assert shop_webhooks.received == []
    make_everything_due()
    assert outbox.run_due() == {"sent": 2}

    created, confirmed = shop_webhooks.received
    assert shop_webhooks.attempts == 3
    for hook in (created, confirmed):
        timestamp = int(hook.headers["X-Chatout-Signature"].split(",")[0].removeprefix("t="))
        assert hook.headers["X-Chatout-Signature"] == outbox.sign_shop_webhook("whsec_test_secret", timestamp, hook.raw)
        assert abs(time.time() - timestamp) < 60
        assert hook.headers["X-Chatout-Delivery"] == hook.json["id"]
        assert hook.headers["X-Chatout-Event"] == hook.json["event"]
        assert hook.json["data"]["order"]["reference"] == order.reference
    assert (created.json["event"], confirmed.json["event"]) == ("order.created", "order.status_changed")
    assert created.json["data"]["order"]["status"] == "pending"
    assert confirmed.json["data"]["order"]["status"] == "confirmed"
    assert confirmed.json["data"]["previous_status"] == "pending"
    assert (
        outbox.sign_shop_webhook("another_secret", timestamp, confirmed.raw) != confirmed.headers["X-Chatout-Signature"]
    )
