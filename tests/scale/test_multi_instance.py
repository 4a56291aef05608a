"""Two web instances and two queue workers on one PostgreSQL and one Redis: scaling out breaks nothing.

Real processes, configured only through the environment as on separate hosts behind a load balancer:
`gunicorn wsgi:app` twice (two worker processes each) on loopback ports, and `flask --app wsgi worker`
twice, sending through a fake WhatsApp Graph API. Shoppers and staff switch instances between requests,
so a cart, a CSRF token or a sign-in made on one instance is used on the other. What must hold:

- every unit is sold once (no oversell, no duplicate order for a double submission, losers told why);
- every WhatsApp message reaches Meta exactly once, and each customer's messages arrive in order;
- the reminder goes out once per order even when several sweeps run at the same moment.
"""

import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select, text, update

from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Consent, Order, OutboxItem, StockReservation, Variant
from checkout.models.messaging import Message
from checkout.whatsapp.templates import TEMPLATES
from tests.admin_helpers import PASSWORD, make_staff
from tests.conftest import ON_POSTGRES
from tests.factories import make_product, make_store
from tests.fakes.graph_api import ApprovedTemplate, FakeGraphApi, ReceivedMessage, received_in_order
from tests.scale.browsing import Shopper, StaffDesk
from tests.scale.cluster import ROOT, Cluster, StartupFailed, instance_environment

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="several processes share one database only on PostgreSQL: set DATABASE_URL=postgresql://…",
    ),
]

REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of its own: flushed before and after
SECRET_KEY = "scale-test-secret-shared-by-every-instance"
ACCESS_TOKEN = "EAAG-scale-test-token"
PHONE_NUMBER_ID = "106540352242999"
STAFF_ALERT_PHONE = "+919741000000"
PUBLIC_BASE_URL = "https://shop.example"

STOCK = 20
SHOPPERS = 40
DOUBLE_SUBMITTERS = range(0, SHOPPERS, 5)  # 8 shoppers send the same checkout to both instances at once
AGED_ORDERS = 6  # pending orders whose confirmation request we pretend went out 7 hours ago
DRAIN_SECONDS = 30

CONFIRMED, PREPARING = "Confirmed", "Being prepared"
CARRIER = "Blue Dart"


# ---------------------------------------------------------------------------------------------------------------
# Fixtures: Redis, the fake Graph API, a seeded shop, and the processes
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_queue() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        pytest.skip(
            f"Redis is not reachable at {REDIS_URL} ({error.__class__.__name__}): the instances share their queue and rate limits through it"
        )
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def graph_api() -> Iterator[FakeGraphApi]:
    approved = [ApprovedTemplate(t.name, t.body, len(t.quick_replies), ("en",)) for t in TEMPLATES.values()]
    fake = FakeGraphApi(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID, templates=approved)
    fake.start()
    yield fake
    fake.stop()
    assert not fake.violations, f"Meta would have refused {len(fake.violations)} request(s): {fake.violations}"


@dataclass
class Shop:
    app: Flask
    product_slug: str
    variant_id: int
    staff_emails: tuple[str, str]

    @contextmanager
    def database(self):
        """The test's own view of the shared database; the transaction ends on the way out."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


@pytest.fixture
def shop(make_app, redis_queue) -> Shop:
    app = make_app()
    with app.app_context():
        make_store(name="Scale Shop", staff_alert_numbers=[STAFF_ALERT_PHONE], reminder_hours=6)
        product = make_product("Handloom Saree", price_minor=250000, stock=STOCK, sku="SAREE")
        owner = make_staff("owner", email="owner@scale.example", name="Owner Asha")
        manager = make_staff("manager", email="manager@scale.example", name="Manager Ravi")
        seeded = Shop(app, product.slug, product.variants[0].id, (owner.email, manager.email))
        db.session.remove()
    return seeded


@pytest.fixture
def start_cluster(shop, graph_api, redis_queue, tmp_path) -> Iterator[Callable[..., Cluster]]:
    """Start web instances and workers on the test's database, Redis and fake; all stopped at teardown."""
    environment = instance_environment(
        {
            "DATABASE_URL": shop.app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": redis_queue,
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SESSION_COOKIE_SECURE": "false",  # plain http on loopback (a developer's .env must not say otherwise)
            "ORDER_RATE_LIMIT_PER_ADDRESS": "100000 per minute",  # every simulated shopper comes from 127.0.0.1
            "WHATSAPP_PROVIDER": "cloud",
            "WHATSAPP_GRAPH_URL": graph_api.url,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_APP_SECRET": "scale-test-app-secret",
            "WHATSAPP_VERIFY_TOKEN": "scale-test-verify-token",
            "WHATSAPP_SEND_TIMEOUT": "5",
            # Every order alerts the one staff number: paced 6 s apart, a burst would outlast the test's waits.
            # This fake enforces no pair limit; pacing has its own tests (tests/messaging/test_delivery_timing.py).
            "WHATSAPP_PACING_SECONDS": "0",
        }
    )
    started: list[Cluster] = []

    def start(web: int = 2, workers: int = 2) -> Cluster:
        cluster = Cluster(environment, tmp_path)
        started.append(cluster)
        try:
            return cluster.start(web=web, workers=workers)
        except StartupFailed as failure:
            pytest.fail(str(failure), pytrace=False)

    yield start
    for cluster in started:
        cluster.stop()


# ---------------------------------------------------------------------------------------------------------------
# Small tools: concurrency, bounded waits, what Meta received
# ---------------------------------------------------------------------------------------------------------------


def all_at_once(calls: list[Callable[[], object]], timeout: float = 30) -> list:
    """Run the calls in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls), timeout=timeout)

    def released(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result(timeout=timeout) for future in futures]


def wait_for_outbox_to_drain(shop: Shop, cluster: Cluster, timeout: float = DRAIN_SECONDS) -> float:
    """Block until every outbox row is done; fail on a failed row or after `timeout` seconds."""
    started = time.monotonic()
    while True:
        with shop.database() as session:
            counts = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
            failed = session.scalars(select(OutboxItem).where(OutboxItem.status == "failed")).all()
            errors = [(item.idempotency_key, item.last_error) for item in failed]
        if errors:
            pytest.fail(f"outbox rows failed: {errors}\n{cluster.logs()}", pytrace=False)
        if counts and set(counts) == {"done"}:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"outbox not drained after {timeout} s: {counts}\n{cluster.logs()}", pytrace=False)
        time.sleep(0.1)


def describe(message: ReceivedMessage) -> tuple:
    """What a customer reads, as (template, order reference[, summary]); anything else shows up whole."""
    if message.type != "template":
        return (message.type, str(message.body)[:200])
    template = message.body["template"]
    values = [p["text"] for c in template["components"] if c["type"] == "body" for p in c["parameters"]]
    if template["name"] == "order_update":
        return ("order_update", values[0], values[2])
    if template["name"] in ("order_confirmation", "order_confirmation_reminder"):
        return (template["name"], values[1])
    return (template["name"], values[0])  # new_order_alert: the reference first


def digits(phone: str) -> str:
    return phone.lstrip("+")


# ---------------------------------------------------------------------------------------------------------------
# The phases of the main scenario
# ---------------------------------------------------------------------------------------------------------------


def make_shoppers() -> list[Shopper]:
    return [Shopper(n, f"98{n:08d}", f"+9198{n:08d}") for n in range(SHOPPERS)]


def fill_carts(shoppers: list[Shopper], shop: Shop, urls: list[str]) -> None:
    """Shopper n browses on instance n % 2 and adds to the cart on the other one."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        jobs = [
            pool.submit(s.fill_cart, urls[s.number % 2], urls[(s.number + 1) % 2], shop.product_slug, shop.variant_id)
            for s in shoppers
        ]
        for job in jobs:
            job.result(timeout=60)


def check_out_all_at_once(shoppers: list[Shopper], urls: list[str]) -> None:
    """Everyone submits at the same moment, to the instance they did not browse on; double submitters also
    send the very same form to the other instance."""
    calls = []
    for shopper in shoppers:
        calls.append(lambda s=shopper: s.submit_checkout(urls[(s.number + 1) % 2]))
        if shopper.number in DOUBLE_SUBMITTERS:
            calls.append(lambda s=shopper: s.submit_checkout(urls[s.number % 2]))
    all_at_once(calls)


def check_every_unit_sold_once(shop: Shop, shoppers: list[Shopper]) -> list[Order]:
    """Exactly STOCK orders, one per winning cart, each with its shopper's details; everyone else told why."""
    not_understood = [
        (s.number, o.instance, o.status, o.body[:300]) for s in shoppers for o in s.outcomes if not o.understood
    ]
    assert not not_understood, f"answers that are neither an order nor the out-of-stock message: {not_understood}"

    with shop.database() as session:
        orders = list(session.scalars(select(Order).order_by(Order.id)))
        for order in orders:
            session.expunge(order)
        variant = session.get(Variant, shop.variant_id)
        held = session.scalar(
            select(func.sum(StockReservation.quantity)).where(*stock.open_reservation_filter(utcnow()))
        )
        available = stock.available_quantities([variant])[variant.id]
        on_hand = variant.stock_on_hand

    assert len(orders) == STOCK, f"{len(orders)} orders for {STOCK} units"
    assert (held, on_hand, available) == (STOCK, STOCK, 0), "reservations must hold exactly the stock there is"
    by_token = {order.status_token: order for order in orders}
    assert len({order.checkout_key for order in orders}) == STOCK, "one order per cart"

    winners = [s for s in shoppers if s.order_tokens]
    for shopper in winners:
        assert len(shopper.order_tokens) == 1, f"shopper {shopper.number}'s one cart led to two orders"
        order = by_token[next(iter(shopper.order_tokens))]
        assert (order.customer_phone, order.checkout_key) == (shopper.phone, shopper.checkout_form["checkout_key"])
        assert order.customer_name == f"Shopper {shopper.number}"
    assert len(winners) == STOCK
    for shopper in shoppers:
        if not shopper.order_tokens:
            assert all(outcome.sold_out for outcome in shopper.outcomes), (
                f"shopper {shopper.number}: {shopper.outcomes}"
            )
    return orders


def twins_told_sold_out_for_their_own_order(shoppers: list[Shopper]) -> list[int]:
    """Double submitters with an order whose other tab still said "sold out": the known bug pinned down by
    test_a_double_submission_racing_for_the_last_unit_leads_both_tabs_to_the_one_order; tolerated here
    (it needs the twin to take the very last unit) and only reported, so this test is not flaky."""
    return [s.number for s in shoppers if s.order_tokens and any(o.sold_out for o in s.outcomes)]


def confirm_and_ship(desks: list[StaffDesk], orders: list[Order], urls: list[str], expected: dict) -> None:
    """Each desk takes four orders: all confirmed, two of them prepared and shipped. Every step opens the
    order on one instance and posts the button to the other. The two desks work at the same time."""

    def work(desk: StaffDesk, mine: list[Order]) -> None:
        step = 0
        for position, order in enumerate(mine):
            plan = [("confirmed", CONFIRMED, {})]
            if position < 2:
                tracking = f"BD{order.id:06d}"
                shipped = f"Shipped with {CARRIER}, tracking number {tracking}"
                plan += [
                    ("preparing", PREPARING, {}),
                    ("shipped", shipped, {"carrier": CARRIER, "tracking_number": tracking}),
                ]
            for target, summary, fields in plan:
                desk.change_status(urls[step % 2], urls[(step + 1) % 2], order.reference, target, **fields)
                expected[digits(order.customer_phone)].append(("order_update", order.reference, summary))
                step += 1

    all_at_once([lambda: work(desks[0], orders[0:4]), lambda: work(desks[1], orders[4:8])], timeout=60)


def race_two_desks_to_confirm(desks: list[StaffDesk], order: Order, urls: list[str], expected: dict) -> None:
    """Both desks open the same pending order, then press Confirm at once on different instances:
    one wins, the other is told the order changed, and the customer hears about it once."""
    forms = [desks[0].open_order(urls[0], order.reference), desks[1].open_order(urls[1], order.reference)]
    assert forms[0]["version"] == forms[1]["version"]
    responses = all_at_once(
        [
            lambda: desks[0].post_status(urls[0], order.reference, forms[0], "confirmed"),
            lambda: desks[1].post_status(urls[1], order.reference, forms[1], "confirmed"),
        ]
    )
    assert sorted(r.status_code for r in responses) == [303, 409], [r.text[:500] for r in responses]
    expected[digits(order.customer_phone)].append(("order_update", order.reference, CONFIRMED))


SWEEP = """
import sys
from checkout import create_app
from checkout.notifications import send_due_reminders
app = create_app()
with app.app_context():
    print("ready", flush=True)
    sys.stdin.readline()
    print("reminders", send_due_reminders(), flush=True)
"""


def run_reminder_sweeps_at_once(cluster: Cluster, count: int = 3, timeout: float = 20) -> list[int]:
    """`send_due_reminders()` in `count` separate processes (as in separate workers), released together."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP],
            cwd=ROOT,
            env=cluster.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    pool = ThreadPoolExecutor(max_workers=count)
    try:
        ready = [pool.submit(process.stdout.readline) for process in processes]
        assert [line.result(timeout=timeout).strip() for line in ready] == ["ready"] * count
        for process in processes:  # as close together as writes to three pipes can be
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=timeout) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
        pool.shutdown(wait=True)  # the readers end with their (now stopped) processes
    sent = []
    for (out, err), process in zip(outputs, processes, strict=True):
        assert process.returncode == 0 and out.startswith("reminders"), f"sweep process failed:\n{out}\n{err}"
        sent.append(int(out.split()[1]))
    return sent


def age_confirmation_requests(shop: Shop, orders: list[Order]) -> None:
    """These orders were placed 7 hours ago, and their customers agreed to reminders (none goes without)."""
    with shop.database() as session:
        session.execute(
            update(Order)
            .where(Order.id.in_([order.id for order in orders]))
            .values(created_at=utcnow() - timedelta(hours=7), confirmation_requested_at=utcnow() - timedelta(hours=7))
        )
        session.add_all(
            Consent(phone=order.customer_phone, source="website", wording="Send me reminders", order_id=order.id)
            for order in orders
        )


def check_each_message_once_and_in_order(shop: Shop, graph_api: FakeGraphApi, expected: dict, orders) -> None:
    copies = Counter(message.tracking for message in graph_api.messages)
    assert not {key: n for key, n in copies.items() if n > 1}, "a message reached Meta more than once"
    with shop.database() as session:
        keys = set(session.scalars(select(OutboxItem.idempotency_key).where(OutboxItem.kind == "whatsapp")))
        sent = session.execute(
            select(Message.status, func.count(Message.wamid.distinct()), func.count())
            .where(Message.direction == "out")
            .group_by(Message.status)
        ).all()
    assert set(copies) == keys, "Meta received exactly the messages the outbox holds"
    assert [tuple(row) for row in sent] == [("sent", len(keys), len(keys))], (
        "each message recorded as sent with its own wamid"
    )

    received = received_in_order(graph_api.messages)
    for phone, wanted in expected.items():
        assert [describe(m) for m in received.get(phone, [])] == wanted, f"messages to {phone}, in order"
    alerts = Counter(describe(m) for m in received.get(digits(STAFF_ALERT_PHONE), []))
    assert alerts == Counter(("new_order_alert", order.reference) for order in orders), "one staff alert per order"
    assert set(received) == {*expected, digits(STAFF_ALERT_PHONE)}, "nobody else was messaged"


# ---------------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------------


def test_two_instances_and_two_workers_sell_each_unit_once_and_send_each_message_once(shop, graph_api, start_cluster):
    timings = {}
    started = time.monotonic()
    cluster = start_cluster(web=2, workers=2)
    urls = [instance.url for instance in cluster.web]
    timings["start 4 processes"] = time.monotonic() - started

    # 1. Forty shoppers, twenty units; eight of them submit twice, once to each instance.
    mark = time.monotonic()
    shoppers = make_shoppers()
    fill_carts(shoppers, shop, urls)
    check_out_all_at_once(shoppers, urls)
    orders = check_every_unit_sold_once(shop, shoppers)
    timings["checkout race"] = time.monotonic() - mark

    expected: dict[str, list[tuple]] = defaultdict(list)
    for order in orders:
        expected[digits(order.customer_phone)].append(("order_confirmation", order.reference))

    # 2. Two staff members, each signed in on a different instance, work the order desk through both.
    mark = time.monotonic()
    desks = [StaffDesk(email, PASSWORD) for email in shop.staff_emails]
    desks[0].sign_in(urls[0])
    desks[1].sign_in(urls[1])
    confirm_and_ship(desks, orders, urls, expected)
    race_two_desks_to_confirm(desks, orders[8], urls, expected)
    timings["order desk"] = time.monotonic() - mark
    timings["drain after desk"] = wait_for_outbox_to_drain(shop, cluster)

    # 3. Six of the still-pending orders asked for confirmation 7 hours ago; three sweeps run at once.
    mark = time.monotonic()
    aged = orders[9 : 9 + AGED_ORDERS]
    age_confirmation_requests(shop, aged)
    sent_by_sweeps = run_reminder_sweeps_at_once(cluster)
    # The workers' own minute sweep may have got there first; together they send exactly one each.
    assert sum(sent_by_sweeps) <= AGED_ORDERS, sent_by_sweeps
    for order in aged:
        expected[digits(order.customer_phone)].append(("order_confirmation_reminder", order.reference))
    with shop.database() as session:
        reminded = set(session.scalars(select(Order.id).where(Order.reminder_sent_at.is_not(None))))
    assert reminded == {order.id for order in aged}
    timings["reminder sweeps"] = time.monotonic() - mark
    timings["drain after reminders"] = wait_for_outbox_to_drain(shop, cluster)

    check_each_message_once_and_in_order(shop, graph_api, expected, orders)
    assert twins_told_sold_out_for_their_own_order(shoppers) == []
    timings["total"] = time.monotonic() - started
    print(
        f"\n{len(graph_api.messages)} messages, sweeps sent {sent_by_sweeps}, "
        f"twins told sold out for their own order: {twins_told_sold_out_for_their_own_order(shoppers)}; "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    )


def test_a_double_submission_racing_for_the_last_unit_leads_both_tabs_to_the_one_order(shop, start_cluster):
    with shop.database():
        last = make_product("Last Kurta", price_minor=89900, stock=1, sku="LAST")
        slug, variant_id = last.slug, last.variants[0].id
    cluster = start_cluster(web=2, workers=0)
    urls = [instance.url for instance in cluster.web]
    shopper = Shopper(1, "9800000001", "+919800000001")
    shopper.fill_cart(urls[0], urls[1], slug, variant_id)

    # Hold the variant's row lock so both submissions are surely inside place_order, queued on the lock,
    # before either can finish: the moment a double click or two tabs on two instances can produce.
    with shop.app.app_context(), db.engine.connect() as holder, ThreadPoolExecutor(max_workers=2) as pool:
        holder.execute(select(Variant.id).where(Variant.id == variant_id).with_for_update())
        submissions = [pool.submit(shopper.submit_checkout, url) for url in urls]
        try:
            wait_for_lock_waiters(2, submissions)
        finally:
            holder.rollback()  # let them go, whatever happened
        outcomes = [submission.result(timeout=30) for submission in submissions]

    with shop.database() as session:
        orders = session.scalars(select(Order).where(Order.checkout_key == shopper.checkout_form["checkout_key"]))
        tokens = {order.status_token for order in orders}
    if len(tokens) != 1:  # a different, worse bug: pytest.fail so the xfail marker cannot swallow it
        pytest.fail(f"the cart made {len(tokens)} orders instead of one")
    answers = [(o.instance, o.status, "sold out" if o.sold_out else o.token) for o in outcomes]
    assert [outcome.token for outcome in outcomes] == [*tokens, *tokens], f"both tabs must reach the order: {answers}"


def wait_for_lock_waiters(count: int, submissions: list, timeout: float = 10) -> None:
    """Block until `count` sessions of this database wait for a lock (bounded); fail showing what they do.

    Polls on a connection of its own in autocommit: PostgreSQL keeps pg_stat_activity as it was at the
    first look within a transaction, so polling inside one would never see a change.
    """
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + timeout
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as observer:
        while observer.execute(waiting).scalar() < count:
            if time.monotonic() > deadline or any(submission.done() for submission in submissions):
                activity = observer.execute(
                    text(
                        "SELECT state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
                answered = [(s.exception() or s.result()) if s.done() else "no answer yet" for s in submissions]
                pytest.fail(f"the checkouts did not queue on the stock lock: {activity}; answered: {answered}")
            time.sleep(0.02)
