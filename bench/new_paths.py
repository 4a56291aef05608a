"""The paths issue 18 asked to benchmark: payment and courier webhook bursts, the coupon race, server carts,
a chat order at a fixed arrival rate, and the WhatsApp webhook's ack with its processing apart.

Same method as bench/scenarios.py: the real stack, signed requests, figures checked against the database.
Bursts are prepared and signed here, in Python, and replayed by wrk (bench/wrk/replay.lua) so the load tool
spends no CPU on signatures while it runs; the chat order and the coupon race need the answers of earlier
steps, so a small Python load generator drives them.
"""

import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from bench import stack as bench_stack
from bench.load import LoadResult, Series, percentile
from bench.report import Row
from bench.scenarios import (
    Bench,
    alternate,
    drain,
    floor_of,
    floor_round,
    hidden_value,
    ms,
    rate,
    ratio_row,
    sellable_products,
    stored_webhook_events,
    webhook_env,
)
from bench.seed_orders import seed_max_order_id
from checkout.carriers.carriers import sign as carrier_sign
from checkout.carriers.presets import SHIPROCKET
from checkout.whatsapp.webhooks import sign as whatsapp_sign
from tests.fakes.stripe_api import stripe_signature

RESEND_EVERY = 10  # one event in ten is sent twice, later, by another client: a provider's retry
CHAT_RATE = 20.0  # conversations started per second (open loop)
CHAT_TARGET_MS = 300.0
CHAT_TAPS = 4  # taps per conversation after its first "hi" (2 in the smoke run)
# A customer reads before tapping. The outbox keeps Meta's pair rate limit (WHATSAPP_PACING_SECONDS, 6 s
# between two messages to one customer): a tap sooner than that after the last message would time the pacing,
# not the app. So every tap comes this long after the message it answers.
CHAT_THINK_SECONDS = 6.5
SIGNED_CHUNK = 2_000  # Stripe refuses a signature older than 5 minutes: sign a chunk just before sending it


# ---------------------------------------------------------------------------------------------------------------
# Prepared requests, replayed by wrk
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    label: str
    expect: int
    path: str
    headers: dict
    body: bytes
    method: str = "POST"

    def line(self) -> str:
        text = self.body.decode()
        if "\t" in text or "\n" in text:
            raise ValueError(f"{self.label}: a replayed body must be on one line without tabs")
        headers = "\x1f".join(f"{name}: {value}" for name, value in self.headers.items())
        return "\t".join((self.label, str(self.expect), self.method, self.path, headers, text))


def replay(bench: Bench, name: str, prepared: list[Prepared]) -> tuple[LoadResult, float]:
    """Send every prepared request (split round-robin over the clients, in order); the result and its seconds."""
    clients = bench.profile.clients
    folder = Path(bench.run_dir) / f"requests-{name}-{int(time.time() * 1000)}"
    folder.mkdir()
    files = [open(folder / f"requests-{n}.tsv", "w") for n in range(1, clients + 1)]  # noqa: SIM115
    try:
        for index, request in enumerate(prepared):
            files[index % clients].write(request.line() + "\n")
    finally:
        for file in files:
            file.close()
    began = time.monotonic()
    result = bench.wrk("replay", duration=900, env={"BENCH_REQUESTS_DIR": str(folder)}, until_all_finish=True)
    return result, time.monotonic() - began


def with_resends(events: list[Prepared], clients: int) -> list[Prepared]:
    """Every RESEND_EVERY-th event again at the end, on another client than its first copy (resends race)."""
    resends = [event for index, event in enumerate(events) if index % RESEND_EVERY == 0]
    resends = [Prepared("resend", e.expect, e.path, e.headers, e.body, e.method) for e in resends]
    shift = 1 if clients > 1 else 0
    return events + resends[shift:] + resends[:shift]


def check_replayed(bench: Bench, result: LoadResult, what: str, labels: tuple[str, ...] = ("event", "resend")) -> None:
    for label in labels:
        unexpected = {status: n for status, n in result.status_counts(label).items() if status != 200}
        if unexpected:
            bench.report.errors.append(f"{what} {label}: unexpected answers {unexpected}; e.g. {result.problems[:2]}")
    if result.socket_error_count:
        bench.report.errors.append(f"{what}: socket errors {result.socket_errors}")


# ---------------------------------------------------------------------------------------------------------------
# Payment webhooks: Stripe-shaped, signed, every one applied exactly once
# ---------------------------------------------------------------------------------------------------------------


def copy_seeded_orders(bench: Bench, count: int, prefix: str, where: str) -> list[tuple[int, str, int, str]]:
    """`count` fresh orders (ids above the seeded history, so the next run's reset removes them), copied
    from seeded ones matching `where`: (id, reference, total_minor, currency)."""
    with bench.db() as conn:
        boundary = seed_max_order_id(conn)
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' "
                "AND column_name NOT IN ('id') ORDER BY ordinal_position"
            )
        ]
        fresh = {
            "reference": f"'{prefix}' || lpad(row_number() OVER ()::text, 8, '0')",
            "status_token": "md5(random()::text || clock_timestamp()::text)",
            "checkout_key": "NULL",
            "status": "'confirmed'",
            "payment_status": "'unpaid'",
            "amount_paid_minor": "0",
            "amount_refunded_minor": "0",
            "assigned_to_id": "NULL",
            "created_at": "now()",
            "updated_at": "now()",
        }
        chosen = ", ".join(fresh.get(column, f'"{column}"') for column in columns)
        names = ", ".join(f'"{column}"' for column in columns)
        return conn.execute(
            f"INSERT INTO orders ({names}) SELECT {chosen} FROM orders "  # noqa: S608 (our own column names)
            f"WHERE id <= %s AND {where} ORDER BY id DESC LIMIT %s "
            "RETURNING id, reference, total_minor, currency",
            (boundary, count),
        ).fetchall()


def stripe_event(reference: str, total: int, currency: str, number: int, tag: str) -> Prepared:
    event = {
        "id": f"evt_bench{tag}_{number}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": f"cs_bench{tag}_{number}",
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": total,
                "currency": currency.lower(),
                "payment_intent": f"pi_bench{tag}_{number}",
                "client_reference_id": f"{reference}P1",
                "metadata": {"order_reference": reference},
            }
        },
    }
    raw = json.dumps(event, separators=(",", ":")).encode()
    signature = stripe_signature(raw, bench_stack.STRIPE_WEBHOOK_SECRET, int(time.time()))
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return Prepared("event", 200, "/webhooks/payments/stripe", headers, raw)


def measure_payment_burst(bench: Bench) -> None:
    burst, tag = bench.profile.burst, str(int(time.time()))
    orders = copy_seeded_orders(bench, burst, "BPAY", "status <> 'cancelled' AND total_minor > 0")
    if len(orders) < burst:
        bench.report.errors.append(f"payment burst: only {len(orders)} orders to pay")
    ids = [order[0] for order in orders]
    result, elapsed, sent = Series(), 0.0, 0
    for first in range(0, len(orders), SIGNED_CHUNK):
        chunk = orders[first : first + SIGNED_CHUNK]
        events = [stripe_event(ref, total, cur, first + n, tag) for n, (_, ref, total, cur) in enumerate(chunk)]
        part, seconds = replay(bench, "payments", with_resends(events, bench.profile.clients))
        check_replayed(bench, part, "payment burst")
        result.add(part)
        elapsed, sent = elapsed + seconds, sent + len(events)
    with bench.db() as conn:
        stored, processed, paid = conn.execute(
            "SELECT count(*), count(processed_at), count(*) FILTER (WHERE outcome = 'paid') FROM payment_events "
            "WHERE provider = 'stripe' AND event_id LIKE %s",
            (f"evt_bench{tag}_%",),
        ).fetchone()
        payments, paid_orders = conn.execute(
            "SELECT count(*), count(DISTINCT order_id) FROM payments WHERE order_id = ANY(%s) AND kind = 'payment'",
            (ids,),
        ).fetchone()
        settled = conn.execute(
            "SELECT count(*) FROM orders WHERE id = ANY(%s) AND amount_paid_minor = total_minor", (ids,)
        ).fetchone()[0]
    exact = stored == processed == paid == payments == paid_orders == settled == sent
    bench.report.add(
        Row(
            f"payment webhook burst: {sent:,} signed Stripe events (+{result.completed('resend'):,} resent)",
            f"{payments:,} payments on {paid_orders:,} orders, {processed:,} processed, in {elapsed:.1f} s",
            ratio=f"{sent / elapsed:,.0f} events/s",
            target="each applied exactly once",
            passed=exact and result.answered("event", 200) == sent,
        )
    )
    bench.report.notes.append(
        f"payment burst: {stored:,} events stored, {paid:,} 'paid', {settled:,} orders fully paid; ack p50 "
        f"{ms(result.p('event', 50))}, p95 {ms(result.p('event', 95))} (each event verified, stored and applied "
        "in the request, as checkout/payments/webhook_views.py does)."
    )


# ---------------------------------------------------------------------------------------------------------------
# Courier webhooks: two couriers, each with its own way of signing, every scan stored and applied once
# ---------------------------------------------------------------------------------------------------------------

HMAC_CARRIER = "bench-hmac"
TOKEN_CARRIER = "bench-shiprocket"


def ensure_carriers(bench: Bench) -> dict[str, str]:
    """A generic courier signing with HMAC and a Shiprocket one sending a token; name → secret."""
    secrets_by_name = {HMAC_CARRIER: "bench-carrier-hmac-secret", TOKEN_CARRIER: "bench-carrier-token-secret"}
    rows = [
        (HMAC_CARRIER, "Bench courier", "generic", "hmac", "X-Signature",
         {"tracking_number": "awb", "status": "status", "time": "at", "event_id": "event_id"},
         {"In Transit": "in_transit"}),
        (TOKEN_CARRIER, "Shiprocket", "shiprocket", "token", "", {}, SHIPROCKET.status_map),
    ]  # fmt: skip
    with bench.db() as conn:
        for name, label, preset, auth, header, paths, status_map in rows:
            conn.execute(
                "INSERT INTO carriers (name, label, preset, auth, auth_header, secret, paths, status_map, active, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true, now()) ON CONFLICT (name) DO UPDATE "
                "SET secret = EXCLUDED.secret, active = true",
                (name, label, preset, auth, header, secrets_by_name[name], json.dumps(paths), json.dumps(status_map)),
            )
    return secrets_by_name


def courier_event(carrier: str, secret: str, tracking: str, reference: str, number: int, tag: str) -> Prepared:
    stamp = f"2026-11-30 10:{number // 3600 % 60:02d}:{number // 60 % 60:02d}.{number % 60:02d}{tag}"
    if carrier == HMAC_CARRIER:
        body = {"event_id": f"ev-{tag}-{number}", "awb": tracking, "status": "In Transit", "at": stamp}
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Signature": "sha256=" + carrier_sign(raw, secret)}
    else:
        body = {"awb": tracking, "current_status": "IN TRANSIT", "current_timestamp": stamp, "order_id": reference,
                "scans": [{"status": "IN TRANSIT", "activity": "Reached hub"}]}  # fmt: skip
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "x-api-key": secret}
    return Prepared("event", 200, f"/webhooks/carriers/{carrier}", headers, raw)


def measure_courier_burst(bench: Bench) -> None:
    burst, tag = bench.profile.burst, str(int(time.time()) % 100000)
    secrets_by_name = ensure_carriers(bench)
    with bench.db() as conn:
        conn.execute("DELETE FROM carrier_events")
        shipped = conn.execute(
            "SELECT reference, tracking_number FROM orders WHERE status = 'shipped' AND tracking_number <> '' "
            "ORDER BY id DESC LIMIT %s",
            (burst,),
        ).fetchall()
    if not shipped:
        bench.report.errors.append("courier burst: no shipped orders with tracking numbers in the history")
        return
    names = list(secrets_by_name)
    events = []
    for number in range(burst):
        reference, tracking = shipped[number % len(shipped)]
        carrier = names[number % len(names)]
        events.append(courier_event(carrier, secrets_by_name[carrier], tracking, reference, number, tag))
    result, elapsed = replay(bench, "couriers", with_resends(events, bench.profile.clients))
    check_replayed(bench, result, "courier burst")
    with bench.db() as conn:
        stored, processed, noted, linked = conn.execute(
            "SELECT count(*), count(processed_at), count(*) FILTER (WHERE outcome = 'noted'), count(order_id) "
            "FROM carrier_events"
        ).fetchone()
    sent = len(events)
    bench.report.add(
        Row(
            f"courier webhook burst: {sent:,} events, 2 couriers (+{result.completed('resend'):,} resent)",
            f"{stored:,} stored, {processed:,} applied, in {elapsed:.1f} s",
            ratio=f"{sent - stored:,} lost",
            target="each stored and applied once",
            passed=stored == processed == noted == linked == sent and result.answered("event", 200) == sent,
        )
    )
    bench.report.notes.append(
        f"courier burst: {sent / elapsed:,.0f} events/s over {len(shipped):,} shipped orders (HMAC-signed generic "
        f"courier and Shiprocket's token, alternately); {noted:,} 'in transit' noted on their orders; ack p50 "
        f"{ms(result.p('event', 50))}, p95 {ms(result.p('event', 95))}."
    )


# ---------------------------------------------------------------------------------------------------------------
# The coupon race: many checkouts at once for a code with few uses left
# ---------------------------------------------------------------------------------------------------------------


def prepared_shopper(bench: Bench, slug: str, variant: str) -> tuple[requests.Session, dict]:
    """A shopper with one item in the cart, on the checkout page: the session and the form's hidden fields."""
    shopper = requests.Session()
    page = shopper.get(f"{bench.url}/p/{slug}", timeout=30).text
    shopper.post(
        f"{bench.url}/cart/add",
        data={"csrf_token": hidden_value(page, "csrf_token") or "", "variant_id": variant, "quantity": 1},
        headers={"Origin": bench.url},
        timeout=30,
    )
    page = shopper.get(f"{bench.url}/checkout", timeout=30).text
    return shopper, {
        name: hidden_value(page, name) or "" for name in ("csrf_token", "checkout_key", "expected_subtotal")
    }


def measure_coupon_race(bench: Bench) -> None:
    racers = max(4, bench.profile.clients * 2)
    uses = max(2, racers // 4)
    code = f"RACE{int(time.time()) % 100000}"
    with bench.db() as conn:
        conn.execute(
            "INSERT INTO coupons (code, kind, value, minimum_subtotal_minor, usage_limit, product_ids, "
            "category_ids, paused, created_at) VALUES (%s, 'percent', 10, 0, %s, '[]', '[]', false, now())",
            (code, uses),
        )
        coupon_id = conn.execute("SELECT id FROM coupons WHERE code = %s", (code,)).fetchone()[0]
    products = [pair.split(":") for pair in sellable_products(bench).split()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        shoppers = list(pool.map(lambda n: prepared_shopper(bench, *products[n % len(products)]), range(racers)))
    start = threading.Barrier(racers)
    answers: list[tuple[int, float]] = []

    def race(number: int) -> None:
        shopper, fields = shoppers[number]
        start.wait()
        began = time.monotonic()
        answer = shopper.post(
            f"{bench.url}/checkout",
            data={**fields, "name": f"Racer {number}", "phone": f"+9196{number:08d}", "fulfilment": "delivery",
                  "address": "12 Park Street, Kolkata 700016", "payment_method": "cod", "coupon_code": code},
            headers={"Origin": bench.url},
            allow_redirects=False,
            timeout=60,
        )  # fmt: skip
        answers.append((answer.status_code, time.monotonic() - began))

    began = time.monotonic()
    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    with bench.db() as conn:
        redeemed = conn.execute(
            "SELECT count(*) FROM coupon_redemptions WHERE coupon_id = %s", (coupon_id,)
        ).fetchone()[0]
        with_code = conn.execute("SELECT count(*) FROM orders WHERE coupon_code = %s", (code,)).fetchone()[0]
    placed = sum(status == 303 for status, _ in answers)
    refused = sum(status in (200, 409, 422) for status, _ in answers)
    odd = [status for status, _ in answers if status not in (200, 303, 409, 422)]
    if odd:
        bench.report.errors.append(f"coupon race: unexpected answers {odd[:5]}")
    bench.report.add(
        Row(
            f"coupon race: {racers} checkouts at once for {uses} uses",
            f"{redeemed} redeemed, {with_code} orders with the code, {placed} placed",
            ratio=f"{racers / elapsed:,.0f} checkouts/s",
            target=f"never over {uses}",
            passed=redeemed <= uses and with_code == redeemed and redeemed == min(uses, placed),
        )
    )
    bench.report.notes.append(
        f"coupon race: {placed} placed, {refused} shown the form again (code used up, or the price changed), "
        f"in {elapsed:.2f} s; latency p50 {ms(percentile([s * 1000 for _, s in answers], 50))}, "
        f"p95 {ms(percentile([s * 1000 for _, s in answers], 95))}."
    )


# ---------------------------------------------------------------------------------------------------------------
# Server carts: add and update against the floor
# ---------------------------------------------------------------------------------------------------------------


def cart_round(bench: Bench, seconds: float) -> LoadResult:
    result = bench.wrk("cart", duration=seconds, env={"BENCH_PRODUCTS": sellable_products(bench)})
    bench.check(result, "cart_add", 200)
    bench.check(result, "cart_update", 200)
    return result


def measure_carts(bench: Bench) -> None:
    floor_series, carts = alternate(
        bench, lambda seconds: floor_round(bench, seconds), lambda seconds: cart_round(bench, seconds)
    )
    floor = floor_of(bench, floor_series)
    for label, name in (
        ("cart_add", "cart: add (POST /cart/add)"),
        ("cart_update", "cart: update (POST /cart/update)"),
    ):
        # Each client alternates the two, so each label ran half the time: its own rate is twice its share.
        throughput = 2 * carts.throughput(label)
        bench.report.add(ratio_row(name, throughput, floor.rps, floor.text, 0.5, "req/s"))
        bench.report.notes.append(f"{name}: p50 {ms(carts.p(label, 50))}, p95 {ms(carts.p(label, 95))}.")


# ---------------------------------------------------------------------------------------------------------------
# Webhook ack with processing apart, and the sustained rate
# ---------------------------------------------------------------------------------------------------------------


def measure_webhook_apart(bench: Bench) -> None:
    """The ack alone (the queue workers paused: processing belongs to other processes, on other cores in a
    deployment that cares), then the same events processed; sustained = events / (ack time + processing time)."""
    before = stored_webhook_events(bench)
    rounds: list[LoadResult] = []

    def ack_round(seconds: float) -> LoadResult:
        bench.stack.pause_workers(True)
        try:
            result = bench.wrk("webhook", duration=seconds, env=webhook_env())
        finally:
            bench.stack.pause_workers(False)
        bench.check(result, "webhook", 200)
        rounds.append(result)
        return result

    floor_series, ack = alternate(bench, lambda seconds: floor_round(bench, seconds), ack_round)
    floor = floor_of(bench, floor_series)
    stored = stored_webhook_events(bench) - before
    ack_seconds = sum(result.duration_s for result in rounds)
    drained = drain(bench)
    bench.report.add(
        ratio_row("webhook ack, processing apart (workers paused)", ack.throughput("webhook"), floor.rps, floor.text,
                  0.8, "req/s")
    )  # fmt: skip
    if drained is not None and stored:
        # The floor rounds ran between the ack rounds while the workers caught up; count only their work after them.
        sustained = stored / (ack_seconds + drained)
        bench.report.add(
            Row("webhook sustained: ack + processing on the same cores", rate(sustained, "events/s"),
                floor.text, f"{sustained / floor.rps:.2f}×", "(reported)")
        )  # fmt: skip
    bench.report.notes.append(
        f"webhook ack apart: p50 {ms(ack.p('webhook', 50))}, p95 {ms(ack.p('webhook', 95))}; {stored:,} stored in "
        f"{ack_seconds:.1f} s of ack rounds, the workers took {drained or 0:.1f} s more to process what was left."
    )


# ---------------------------------------------------------------------------------------------------------------
# A chat order through the signed webhook, at a fixed arrival rate
# ---------------------------------------------------------------------------------------------------------------


class Replies:
    """Every message the fake Graph API accepts, by recipient, with a condition to wait on."""

    def __init__(self, graph_api):
        self.by_recipient: dict[str, list] = {}
        self.condition = threading.Condition()
        original = graph_api._accept

        def accept(body: dict) -> dict:
            answer = original(body)
            with self.condition:
                self.by_recipient.setdefault(body["to"], []).append((time.monotonic(), body))
                self.condition.notify_all()
            return answer

        graph_api._accept = accept
        self._restore = lambda: setattr(graph_api, "_accept", original)

    def close(self) -> None:
        self._restore()

    def wait(self, recipient: str, seen: int, timeout: float) -> tuple[float, dict] | None:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.by_recipient.get(recipient, [])) <= seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.condition.wait(left)
            return self.by_recipient[recipient][seen]


def inbound_body(wa_id: str, message: dict, number: int) -> bytes:
    message = {"from": wa_id, "id": f"wamid.BENCHCHAT{wa_id}N{number}", "timestamp": str(int(time.time())), **message}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "919876543210", "phone_number_id": bench_stack.PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Chat {wa_id[-4:]}"}, "wa_id": wa_id}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def first_choice(body: dict) -> dict | None:
    """The tap a customer makes on an interactive message: its first button or list row; None if none."""
    interactive = body.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button" and action.get("buttons"):
        reply = action["buttons"][0]["reply"]
        return {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": reply}}
    if interactive.get("type") == "list":
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        if rows:
            row = {"id": rows[0]["id"], "title": rows[0]["title"]}
            return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}
    return None


@dataclass
class ChatOutcome:
    taps: list[float]  # seconds from the tap's POST to the next interactive message at the fake Graph API
    started_late: float  # how far behind its scheduled start the conversation began
    problem: str = ""


def chat_conversation(bench: Bench, replies: Replies, number: int, tag: str, taps: int) -> ChatOutcome:
    wa_id = f"9194{tag}{number:05d}"[-12:]
    session = requests.Session()
    outcome = ChatOutcome([], 0.0)

    def send(message: dict, step: int) -> tuple[float, dict] | None:
        raw = inbound_body(wa_id, message, step)
        seen = len(replies.by_recipient.get(wa_id, []))
        sent = time.monotonic()
        answer = session.post(
            f"{bench.url}/webhooks/whatsapp",
            data=raw,
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": whatsapp_sign(raw, bench_stack.APP_SECRET)},
            timeout=30,
        )  # fmt: skip
        if answer.status_code != 200:
            outcome.problem = f"webhook answered {answer.status_code}"
            return None
        reply = replies.wait(wa_id, seen, timeout=15)
        if reply is None:
            outcome.problem = f"no reply to step {step} within 15 s"
            return None
        nonlocal reply_at
        reply_at = reply[0]
        return reply[0] - sent, reply[1]

    reply_at = 0.0
    reply = send({"type": "text", "text": {"body": "hi"}}, 0)
    for step in range(1, taps + 1):
        if reply is None:
            break
        time.sleep(max(0.0, reply_at + CHAT_THINK_SECONDS - time.monotonic()))
        tap = first_choice(reply[1])
        if tap is None:
            outcome.problem = f"step {step - 1} answered without a choice to tap ({reply[1].get('type')})"
            break
        reply = send(tap, step)
        if reply is not None:
            outcome.taps.append(reply[0])
    return outcome


def measure_chat_order(bench: Bench) -> None:
    """Conversations start at CHAT_RATE a second whatever the server's pace (open loop); each says "hi", then
    taps the first choice of every interactive message it gets, CHAT_TAPS times, as soon as it arrives."""
    drain(bench)
    conversations = max(4, int(CHAT_RATE * bench.profile.duration))
    tag = f"{int(time.time()) % 10000:04d}"
    per_conversation = CHAT_TAPS if bench.profile.name == "full" else 2
    replies = Replies(bench.stack.graph_api)
    futures = []
    try:
        with ThreadPoolExecutor(max_workers=conversations) as pool:
            began = time.monotonic()
            for number in range(conversations):
                scheduled = began + number / CHAT_RATE
                time.sleep(max(0.0, scheduled - time.monotonic()))
                futures.append(pool.submit(chat_conversation, bench, replies, number, tag, per_conversation))
        outcomes = [future.result() for future in futures]
    finally:
        replies.close()
    taps = [seconds * 1000 for outcome in outcomes for seconds in outcome.taps]
    problems = [outcome.problem for outcome in outcomes if outcome.problem]
    if problems:
        bench.report.errors.append(f"chat order: {len(problems)} conversation(s) stopped early, e.g. {problems[:2]}")
    p95 = percentile(taps, 95)
    bench.report.add(
        Row(
            f"chat order: tap → next interactive message ({CHAT_RATE:.0f} conversations/s, {len(taps)} taps)",
            f"p95 {ms(p95)}",
            ratio=f"p50 {ms(percentile(taps, 50))}",
            target=f"p95 < {CHAT_TARGET_MS:.0f} ms",
            passed=bool(taps) and not problems and p95 < CHAT_TARGET_MS,
        )
    )
    by_step = [
        percentile([outcome.taps[step] * 1000 for outcome in outcomes if len(outcome.taps) > step], 95)
        for step in range(per_conversation)
    ]
    bench.report.notes.append(
        "chat order p95 by tap: " + ", ".join(f"tap {n + 1} {ms(value)}" for n, value in enumerate(by_step)) + "."
    )
    bench.report.notes.append(
        f"chat order: {conversations} conversations started {1000 / CHAT_RATE:.0f} ms apart, each 'hi' then "
        f"{per_conversation} taps on the first choice offered, each {CHAT_THINK_SECONDS} s after the message it answers; latency = the signed webhook POST sent → the fake Graph "
        f"API accepted the next message (through a queue worker); p99 {ms(percentile(taps, 99))}."
    )


# ---------------------------------------------------------------------------------------------------------------
# The staff inbox at 100,000 conversations (bench/inbox.py, in-process, on its own PostgreSQL database)
# ---------------------------------------------------------------------------------------------------------------


def measure_inbox(bench: Bench) -> None:
    database = f"{bench.profile.database}_inbox"
    with psycopg.connect(f"{bench_stack.SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    output = Path(bench.run_dir) / "inbox.json"
    command = [str(bench_stack.VENV_BIN / "python"), "-m", "bench.inbox", "--json", str(output)]
    if bench.profile.name != "full":
        command.append("--smoke")
    env = {**os.environ, "DATABASE_URL": f"{bench_stack.SERVER}/{database}"}
    finished = subprocess.run(command, cwd=bench_stack.ROOT, env=env, capture_output=True, text=True, timeout=1800)
    (Path(bench.run_dir) / "inbox.log").write_text(finished.stdout + finished.stderr)
    if finished.returncode != 0 or not output.exists():
        bench.report.errors.append(f"inbox: bench.inbox failed: {finished.stderr[-500:]}")
        return
    result = json.loads(output.read_text())
    for figure in result["figures"]:
        bench.report.add(
            Row(
                f"inbox ({result['conversations']:,} conversations): {figure['what']}",
                f"p95 {ms(figure['query_ms'])}",
                ratio=f"whole page p95 {ms(figure['page_ms'])}",
                target="p95 < 50 ms",
                passed=figure["query_ms"] < 50,
            )
        )
    bench.report.notes.append(
        f"inbox: in-process on {result['database']} (bench/inbox.py), p95 of {result['rounds']} calls of the query "
        "alone (the target) and of the whole page through Flask's test client, signed in."
    )
