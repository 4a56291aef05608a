"""The scenarios of `make bench`, each adding its rows to the report.

Every throughput figure is a ratio to a reference measured in the same run, on the same stack, with
the same tool and the same number of clients: the floor (/bench/floor: one INSERT + COMMIT) or a
static page of the same size (/bench/static/<bytes>). Absolute numbers depend on the machine; the
ratios say what the application itself costs.
"""

import json
import re
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests

from bench import stack as bench_stack
from bench.load import LoadResult, Series, percentile, run_wrk
from bench.profiles import Profile
from bench.report import Report, Row
from bench.seed_orders import seed_max_order_id

CATALOG_PATH = "/"
PRODUCT_SLUG = "cotton-kurta"  # a typical product: four sizes, each in stock
ADMIN_TARGET_MS = 50.0
PAGE_MINIMUM = 0.8  # a storefront page's throughput against a static page of its size
CHECKOUT_MINIMUM = 0.3  # checkouts a second against the floor's requests a second, closed loop
CHECKOUT_P95_MAXIMUM = 3.0  # checkout p95 against the floor's p95, both at the same fixed arrival rate
NOTIFICATION_TARGET_S = 1.0


@dataclass
class Bench:
    """What every scenario needs: the stack, the profile, the report, and figures later scenarios use."""

    profile: Profile
    stack: bench_stack.Stack
    report: Report
    run_dir: Path
    figures: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.stack.base_url

    def wrk(self, script: str, duration: float | None = None, **kwargs) -> LoadResult:
        return run_wrk(
            script,
            self.url,
            clients=self.profile.clients,
            duration=self.profile.duration if duration is None else duration,
            log_dir=self.run_dir,
            **kwargs,
        )

    def get(
        self, path: str, label: str, duration: float | None = None, expect: int = 200, rate: float = 0.0
    ) -> LoadResult:
        """GET `path` in a closed loop, or at a fixed arrival `rate` (requests a second over all clients)."""
        env = {"BENCH_PATH": path, "BENCH_LABEL": label, "BENCH_EXPECT": str(expect)}
        if rate:
            env["BENCH_RATE"] = f"{rate:.3f}"
        result = self.wrk("get", duration, env=env)
        self.check(result, label, expect)
        return result

    def check(self, result: LoadResult, label: str, expect: int, *, required: bool = True) -> None:
        """Record as errors any answer other than `expect`, socket errors, and (if required) no answer at all."""
        unexpected = {status: n for status, n in result.status_counts(label).items() if status != expect}
        if unexpected:
            self.report.errors.append(f"{label}: unexpected answers {unexpected}; e.g. {result.problems[:2]}")
        if result.socket_error_count:
            self.report.errors.append(f"{label}: socket errors {result.socket_errors}")
        if required and not result.completed(label):
            self.report.errors.append(f"{label}: no request completed")

    def db(self):
        return bench_stack.connect(self.profile)


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def rate(value: float, unit: str = "req/s") -> str:
    return f"{value:,.0f} {unit}"


def ratio_row(scenario: str, figure: float, reference: float, reference_text: str, minimum: float, unit: str) -> Row:
    value = figure / reference if reference else 0.0
    return Row(scenario, rate(figure, unit), reference_text, f"{value:.2f}×", f"≥ {minimum}×", value >= minimum)


# ---------------------------------------------------------------------------------------------------------------
# Warm-up and the floor
# ---------------------------------------------------------------------------------------------------------------


def warm_up(bench: Bench) -> None:
    """Every worker connects and renders once before anything is measured.

    A worker's first request (the first connection, the mappers configured, the first statements and templates
    compiled, and under --preload the copies of the shared pages it writes) took 0.9–1.1 s in smoke runs on a
    loaded machine: each warm-up lasts long enough for it to finish.
    """
    for path in ("/bench/floor", CATALOG_PATH, f"/p/{PRODUCT_SLUG}"):
        bench.get(path, "warm_up", duration=max(bench.profile.warmup, 2.0))


@dataclass(frozen=True)
class Floor:
    rps: float
    p95_ms: float

    @property
    def text(self) -> str:
        return rate(self.rps)


def alternate(bench: Bench, *measurements: Callable[[float], LoadResult]) -> list[Series]:
    """Run the measurements in turn, round after round, so each ratio's two sides share the machine's moods."""
    series = [Series() for _ in measurements]
    seconds = bench.profile.duration / bench.profile.rounds
    for _ in range(bench.profile.rounds):
        for measure, results in zip(measurements, series, strict=True):
            results.add(measure(seconds))
    return series


def floor_round(bench: Bench, seconds: float, rate: float = 0.0) -> LoadResult:
    with bench.db() as conn:
        before = conn.execute("SELECT count(*) FROM bench_floor").fetchone()[0]
    result = bench.get("/bench/floor", "floor", duration=seconds, rate=rate)
    with bench.db() as conn:
        rows = conn.execute("SELECT count(*) FROM bench_floor").fetchone()[0] - before
    if rows < result.answered("floor", 200):
        bench.report.errors.append(f"floor: {result.answered('floor', 200)} answers but only {rows} rows")
    return result


def floor_of(bench: Bench, series: Series) -> Floor:
    floor = Floor(series.throughput("floor"), series.p("floor", 95))
    bench.figures.setdefault("floors", []).append(floor)
    return floor


def measure_floor(bench: Bench) -> None:
    [series] = alternate(bench, lambda seconds: floor_round(bench, seconds))
    floor = floor_of(bench, series)
    bench.report.add(Row("floor: INSERT + COMMIT", f"{floor.text}, p95 {ms(floor.p95_ms)}", target="(reference)"))


def note_floors(bench: Bench) -> None:
    floors = bench.figures.get("floors") or []
    if not floors:
        return
    bench.report.notes.append(
        "floor, measured in rounds alternating with each floor-relative scenario: "
        + ", ".join(f"{floor.text} (p95 {ms(floor.p95_ms)})" for floor in floors)
        + "."
    )


# ---------------------------------------------------------------------------------------------------------------
# Storefront pages against a static page of the same size
# ---------------------------------------------------------------------------------------------------------------


def measure_page(bench: Bench, name: str, path: str) -> None:
    size = len(requests.get(bench.url + path, timeout=10).content)
    static_label = f"static_{size}"
    page, static = alternate(
        bench,
        lambda seconds: bench.get(path, name, duration=seconds),
        lambda seconds: bench.get(f"/bench/static/{size}", static_label, duration=seconds),
    )
    static_rps = static.throughput(static_label)
    bench.report.add(
        ratio_row(
            f"{name} ({size / 1024:.1f} KB)",
            page.throughput(name),
            static_rps,
            f"static {size / 1024:.1f} KB: {rate(static_rps)}",
            PAGE_MINIMUM,
            "req/s",
        )
    )
    bench.report.notes.append(
        f"{name}: p50 {ms(page.p(name, 50))}, p95 {ms(page.p(name, 95))}; "
        f"static page of the same size p95 {ms(static.p(static_label, 95))}."
    )


def measure_pages(bench: Bench) -> None:
    measure_page(bench, "catalog page", CATALOG_PATH)
    measure_page(bench, "product page", f"/p/{PRODUCT_SLUG}")


# ---------------------------------------------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------------------------------------------


def sellable_products(bench: Bench) -> str:
    with bench.db() as conn:
        rows = conn.execute(
            "SELECT p.slug, v.id FROM products p JOIN variants v ON v.product_id = p.id "
            "WHERE p.status = 'active' ORDER BY v.id"
        ).fetchall()
    return " ".join(f"{slug}:{variant_id}" for slug, variant_id in rows)


def orders_made_by_runs(bench: Bench) -> int:
    with bench.db() as conn:
        boundary = seed_max_order_id(conn)
        return conn.execute("SELECT count(*) FROM orders WHERE id > %s", (boundary,)).fetchone()[0]


def prepare_carts(bench: Bench) -> Path:
    """Shoppers fill carts for a while (product page, add to cart, checkout page); not measured.

    Filling a cart renders two pages and posts a form, which costs about what a checkout does, so
    carts filled in 1.5× the checkout rounds' total time last them out; if checkouts are faster, clients
    run out a little early and each client's rate is still measured over the time it was running.
    """
    carts_dir = Path(bench.run_dir) / "carts"
    carts_dir.mkdir(exist_ok=True)
    env = {"BENCH_OUT": str(carts_dir), "BENCH_PRODUCTS": sellable_products(bench)}
    # 1.5× for the closed-loop rounds, one more for the fixed-rate rounds at half that pace.
    result = bench.wrk("checkout_prep", duration=bench.profile.duration * 2.5, env=env)
    ready = sum(1 for path in carts_dir.glob("carts-*.tsv") for _ in path.open())
    if ready < bench.profile.clients:
        bench.report.errors.append(f"checkout: only {ready} carts prepared; e.g. {result.problems[:2]}")
    return carts_dir


def checkout_round(bench: Bench, carts_dir: Path, seconds: float, rate: float = 0.0) -> LoadResult:
    """Checkouts with the next unused carts (each client remembers its place in carts_dir between rounds).

    With a `rate`, checkouts start at that fixed rate (an open loop) instead of one after another."""
    env = {"BENCH_CARTS_DIR": str(carts_dir), "BENCH_RUN_TAG": str(int(time.time() * 1000))}
    if rate:
        env["BENCH_RATE"] = f"{rate:.3f}"
    result = bench.wrk("checkout", duration=seconds, env=env, until_all_finish=True)
    carts_left = result.clients_finished < bench.profile.clients
    bench.check(result, "checkout_post", 303, required=carts_left)
    bench.check(result, "handoff", 200, required=carts_left)
    return result


def measure_checkout(bench: Bench) -> None:
    carts_dir = prepare_carts(bench)
    before = orders_made_by_runs(bench)
    floor_series, result = alternate(
        bench, lambda seconds: floor_round(bench, seconds), lambda seconds: checkout_round(bench, carts_dir, seconds)
    )
    floor = floor_of(bench, floor_series)
    created, redirected = orders_made_by_runs(bench) - before, result.answered("checkout_post", 303)
    # When wrk stops, up to one POST per client is in flight: its order exists, its answer was never read.
    if not redirected <= created <= redirected + bench.profile.clients * bench.profile.rounds:
        bench.report.errors.append(f"checkout: {redirected} redirects but {created} new orders")
    if result.clients_finished:
        bench.report.notes.append(f"checkout: {result.clients_finished} client(s) used all their carts")
    throughput = result.throughput("checkout")
    bench.report.add(
        ratio_row("checkout: POST → handoff page (closed loop)", throughput, floor.rps, floor.text,
                  CHECKOUT_MINIMUM, "checkouts/s"),
    )  # fmt: skip
    bench.report.notes.append(
        f"checkout, closed loop: {created:,} orders; POST alone "
        f"{rate(result.throughput('checkout_post'))} p95 {ms(result.p('checkout_post', 95))}, "
        f"handoff page p95 {ms(result.p('handoff', 95))}, whole checkout p50 {ms(result.p('checkout', 50))}, "
        f"p95 {ms(result.p('checkout', 95))} (floor p95 {ms(floor.p95_ms)}: in a closed loop both are "
        "about clients / throughput)."
    )
    measure_checkout_at_fixed_rate(bench, carts_dir, throughput / 2)


def measure_checkout_at_fixed_rate(bench: Bench, carts_dir: Path, checkouts_per_second: float) -> None:
    """Checkout and floor at the same fixed arrival rate, half the checkout's closed-loop capacity.

    In a closed loop every latency is clients / throughput, so p95 there only mirrors throughput; at a
    fixed rate below capacity it says how long a shopper arriving on time waits. The rate is half of
    what the checkout sustained (half the floor's would exceed the checkout's capacity, and the queue,
    hence p95, would grow with the run's length rather than measure anything).
    """
    if checkouts_per_second <= 0:
        bench.report.errors.append("checkout at a fixed rate: no closed-loop throughput to take half of")
        return
    floor_series, result = alternate(
        bench,
        lambda seconds: floor_round(bench, seconds, rate=checkouts_per_second),
        lambda seconds: checkout_round(bench, carts_dir, seconds, rate=checkouts_per_second),
    )
    floor_p95, p95 = floor_series.p("floor", 95), result.p("checkout", 95)
    ratio = p95 / floor_p95 if floor_p95 else 0.0
    bench.report.add(
        Row(
            f"checkout: p95 at a fixed {checkouts_per_second:,.1f} checkouts/s (half its capacity)",
            ms(p95),
            f"floor p95 {ms(floor_p95)} at the same rate",
            f"{ratio:.2f}×",
            f"≤ {CHECKOUT_P95_MAXIMUM:g}× floor p95",
            bool(floor_p95) and ratio <= CHECKOUT_P95_MAXIMUM,
        )
    )
    bench.report.notes.append(
        f"checkout at a fixed rate: {result.completed('checkout'):,} checkouts arriving "
        f"{checkouts_per_second:,.1f} a second; p50 "
        f"{ms(result.p('checkout', 50))}, POST p95 {ms(result.p('checkout_post', 95))}, handoff p95 "
        f"{ms(result.p('handoff', 95))}; floor at the same rate p50 {ms(floor_series.p('floor', 50))}."
    )


def measure_checkout_cost(bench: Bench) -> None:
    """The checkout's CPU and SQL statements, one at a time in a process of its own (bench/cpu_budget.py).

    CPU time barely depends on what else the machine does; statements not at all. Both against issue 18's
    budgets for a whole checkout: the POST and the hand-off page it leads to.
    """
    from bench.cpu_budget import CHECKOUT_CPU_BUDGET_MS, CHECKOUT_STATEMENT_BUDGET

    out = Path(bench.run_dir) / "checkout_cost.json"
    count = 60 if bench.profile.name == "full" else 10
    command = [str(bench_stack.VENV_BIN / "python"), "-m", "bench.cpu_budget", "--count", str(count)]
    command += ["--database", bench.profile.database, "--redis-url", bench.profile.redis_url, "--json", str(out)]
    with open(Path(bench.run_dir) / "cpu_budget.log", "w") as log:
        subprocess.run(command, cwd=bench_stack.ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=600, check=True)
    cost = json.loads(out.read_text())
    bench.report.add(
        Row("checkout: CPU per checkout, in process", f"{cost['cpu_ms']:.1f} ms",
            ratio=f"POST {cost['post_cpu_ms']:.1f} + page {cost['handoff_cpu_ms']:.1f}",
            target=f"≤ {CHECKOUT_CPU_BUDGET_MS:g} ms", passed=cost["cpu_ms"] <= CHECKOUT_CPU_BUDGET_MS),
        Row("checkout: SQL statements per checkout", str(cost["statements"]),
            target=f"≤ {CHECKOUT_STATEMENT_BUDGET}", passed=cost["statements"] <= CHECKOUT_STATEMENT_BUDGET),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------------------------


def stored_webhook_events(bench: Bench) -> int:
    with bench.db() as conn:
        return conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0]


def webhook_env() -> dict[str, str]:
    return {"BENCH_APP_SECRET": bench_stack.APP_SECRET, "BENCH_RUN_TAG": f"R{int(time.time() * 1000)}"}


def webhook_round(bench: Bench, seconds: float) -> LoadResult:
    result = bench.wrk("webhook", duration=seconds, env=webhook_env())
    bench.check(result, "webhook", 200)
    return result


def measure_webhook_ack(bench: Bench) -> None:
    before = stored_webhook_events(bench)
    floor_series, result = alternate(
        bench, lambda seconds: floor_round(bench, seconds), lambda seconds: webhook_round(bench, seconds)
    )
    floor = floor_of(bench, floor_series)
    stored, acknowledged = stored_webhook_events(bench) - before, result.answered("webhook", 200)
    # When wrk stops, up to one request per client is in flight: stored, never acknowledged to wrk.
    if not acknowledged <= stored <= acknowledged + bench.profile.clients * bench.profile.rounds:
        bench.report.errors.append(f"webhook ack: {acknowledged} acknowledged but {stored} stored")
    # The target (≥ 0.8×) is the ack's with processing on a separate worker: bench/new_paths.py's "apart" row.
    # Here the queue workers process the same events on the same two cores, which only more cores change.
    throughput = result.throughput("webhook")
    bench.report.add(
        Row(
            "webhook ack, worker processing on the same cores",
            rate(throughput),
            floor.text,
            f"{throughput / floor.rps if floor.rps else 0:.2f}×",
            "(reported)",
        )
    )
    bench.report.notes.append(
        f"webhook ack: p50 {ms(result.p('webhook', 50))}, p95 {ms(result.p('webhook', 95))}; "
        f"{acknowledged:,} acknowledged, {stored:,} stored."
    )


def measure_webhook_burst(bench: Bench) -> None:
    burst = bench.profile.burst
    before = stored_webhook_events(bench)
    began = time.monotonic()
    result = bench.wrk("webhook", duration=600, env={**webhook_env(), "BENCH_BURST": str(burst)}, until_all_finish=True)
    elapsed = time.monotonic() - began
    bench.check(result, "webhook", 200)
    stored, acknowledged = stored_webhook_events(bench) - before, result.answered("webhook", 200)
    lost = burst - stored
    bench.report.add(
        Row(
            f"webhook burst: {burst:,} signed events",
            f"{acknowledged:,} acknowledged, {stored:,} stored in {elapsed:.1f} s",
            ratio=f"{lost:,} lost",
            target="none lost",
            passed=lost == 0 and acknowledged == burst,
        )
    )
    drained = drain(bench)
    bench.report.notes.append(
        f"webhook burst: {burst / elapsed:,.0f} events/s; the queue workers had processed every stored event "
        f"{drained:.1f} s after the burst ended."
        if drained is not None
        else "webhook burst: processing did not finish"
    )


# ---------------------------------------------------------------------------------------------------------------
# The queue workers keeping up
# ---------------------------------------------------------------------------------------------------------------


def drain(bench: Bench) -> float | None:
    """Wait until the workers have sent every queued message and processed every stored webhook; seconds waited."""
    began = time.monotonic()
    deadline = began + bench.profile.drain_timeout
    with bench.db() as conn:
        while time.monotonic() < deadline:
            pending = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
            unprocessed = conn.execute("SELECT count(*) FROM webhook_events WHERE processed_at IS NULL").fetchone()[0]
            if not pending and not unprocessed:
                return time.monotonic() - began
            time.sleep(0.2)
    bench.report.errors.append(
        f"the queue workers did not catch up within {bench.profile.drain_timeout:.0f} s "
        f"({pending} messages, {unprocessed} webhooks waiting)"
    )
    return None


def check_deliveries(bench: Bench) -> None:
    drain(bench)
    with bench.db() as conn:
        failed = conn.execute("SELECT count(*) FROM outbox WHERE status = 'failed'").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM outbox WHERE status = 'done'").fetchone()[0]
    violations = bench.stack.graph_api.violations
    if failed:
        bench.report.errors.append(f"{failed} outbox item(s) failed for good")
    if violations:
        bench.report.errors.append(f"the fake Graph API refused {len(violations)} request(s): {violations[:2]}")
    keys = [message.tracking for message in bench.stack.graph_api.messages]
    repeated = len(keys) - len(set(keys))
    bench.report.notes.append(
        f"queue workers: {sent:,} outbox items delivered, {len(keys):,} messages accepted by the fake Graph API "
        f"({repeated} sent twice), {failed} failed."
    )


# ---------------------------------------------------------------------------------------------------------------
# Staff: notification latency and the order desk
# ---------------------------------------------------------------------------------------------------------------


def hidden_value(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*?value="([^"]*)"', html)
    return match.group(1) if match else None


def staff_session(bench: Bench) -> requests.Session:
    session = requests.Session()
    page = session.get(bench.url + "/admin/login", timeout=10)
    answer = session.post(
        bench.url + "/admin/login",
        data={
            "csrf_token": hidden_value(page.text, "csrf_token") or "",
            "email": bench_stack.STAFF_EMAIL,
            "password": bench_stack.STAFF_PASSWORD,
        },
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"staff sign-in failed: {answer.status_code}")
    return session


def wait_for_message(bench: Bench, tracking: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        fresh = bench.stack.graph_api.messages[seen:]
        for message in fresh:
            if message.tracking == tracking:
                return message
        seen += len(fresh)
        time.sleep(0.002)
    return None


def shop_once(bench: Bench, number: int) -> bool:
    """One shopper, start to finish with requests: product page, add to cart, checkout page, place the order."""
    shopper = requests.Session()
    page = shopper.get(f"{bench.url}/p/{PRODUCT_SLUG}", timeout=30).text
    variant = re.search(r'name="variant_id" value="(\d+)"', page)
    shopper.post(
        f"{bench.url}/cart/add",
        data={"variant_id": variant.group(1), "quantity": 1},  # the product page carries no token
        timeout=30,
    )
    page = shopper.get(f"{bench.url}/checkout", timeout=30).text
    fields = {name: hidden_value(page, name) or "" for name in ("csrf_token", "checkout_key", "expected_subtotal")}
    answer = shopper.post(
        f"{bench.url}/checkout",
        data={
            **fields,
            "name": f"Notified Shopper {number}",
            "phone": f"+9197{number:08d}",
            "fulfilment": "delivery",
            "address": "12 Park Street, Kolkata 700016",
            "payment_method": "cod",
        },
        allow_redirects=False,
        timeout=30,
    )
    return answer.status_code == 303


def pending_run_orders(bench: Bench, limit: int) -> list[tuple[int, str]]:
    with bench.db() as conn:
        return conn.execute(
            "SELECT id, reference FROM orders WHERE id > %s AND status = 'pending' ORDER BY id LIMIT %s",
            (seed_max_order_id(conn), limit),
        ).fetchall()


def ensure_pending_orders(bench: Bench, wanted: int) -> list[tuple[int, str]]:
    """Orders from this run waiting for confirmation; shoppers place more if the checkout scenario left too few."""
    orders = pending_run_orders(bench, wanted)
    missing = wanted - len(orders)
    if missing > 0:
        with ThreadPoolExecutor(max_workers=4) as pool:
            placed = sum(pool.map(lambda n: shop_once(bench, n), range(missing)))
        if placed < missing:
            bench.report.errors.append(f"notifications: {missing - placed} of {missing} extra checkouts failed")
        drain(bench)
        orders = pending_run_orders(bench, wanted)
    return orders


def measure_notifications(bench: Bench) -> None:
    """Staff confirm pending orders one by one; each time, how long until Meta (the fake) has the message."""
    orders = ensure_pending_orders(bench, bench.profile.status_changes)
    drain(bench)
    session = staff_session(bench)
    if not orders:
        bench.report.errors.append("notifications: no pending orders to confirm")
        return
    with bench.db() as conn:
        page = session.get(f"{bench.url}/admin/orders/{orders[0][1]}", timeout=10)
        csrf = hidden_value(page.text, "csrf_token") or ""
        latencies, missing = [], 0
        for order_id, reference in orders:
            version = conn.execute("SELECT version FROM orders WHERE id = %s", (order_id,)).fetchone()[0]
            started = time.monotonic()
            answer = session.post(
                f"{bench.url}/admin/orders/{reference}/status",
                data={"csrf_token": csrf, "version": version, "target": "confirmed"},
                allow_redirects=False,
                timeout=30,
            )
            event = conn.execute(
                "SELECT max(id) FROM order_events WHERE order_id = %s AND to_status = 'confirmed'", (order_id,)
            ).fetchone()[0]
            if answer.status_code != 303 or event is None:
                bench.report.errors.append(f"notifications: status change of {reference} answered {answer.status_code}")
                continue
            message = wait_for_message(bench, f"status:{event}")
            if message is None:
                missing += 1
                continue
            latencies.append(message.monotonic - started)
    if missing:
        bench.report.errors.append(f"notifications: {missing} status message(s) never reached the fake Graph API")
    p95 = percentile(latencies, 95)
    bench.report.add(
        Row(
            f"notification: status change → Graph API ({len(latencies)} changes)",
            f"p95 {ms(p95 * 1000)}",
            ratio=f"p50 {ms(percentile(latencies, 50) * 1000)}",
            target=f"p95 < {NOTIFICATION_TARGET_S:.0f} s",
            passed=bool(latencies) and p95 < NOTIFICATION_TARGET_S,
        )
    )


@dataclass(frozen=True)
class DeskQuery:
    name: str
    params: dict
    path: str = "/admin/orders"

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


def desk_queries(bench: Bench, session: requests.Session) -> list[DeskQuery]:
    """The order desk as staff use it, with values taken from the seeded history."""
    with bench.db() as conn:
        boundary = seed_max_order_id(conn)
        reference, phone, name = conn.execute(
            "SELECT reference, customer_phone, customer_name FROM orders WHERE id = %s", (max(1, boundary // 2),)
        ).fetchone()
        staff_id = conn.execute("SELECT id FROM staff_users WHERE email = 'priya.nair@bench.example'").fetchone()[0]
        newest = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
    first_page = session.get(bench.url + "/admin/orders", timeout=60).text
    cursor = re.search(r"[?&;]after=([A-Za-z0-9_\-]+)", first_page)
    month_end = datetime.now(UTC).date() - timedelta(days=180)
    return [
        DeskQuery("all orders (page 1)", {}),
        DeskQuery("all orders, page 2 (keyset)", {"after": cursor.group(1) if cursor else ""}),
        DeskQuery("status tab: pending", {"status": "pending"}),
        DeskQuery("status tab: delivered", {"status": "delivered"}),
        DeskQuery("search: reference", {"q": reference}),
        DeskQuery("search: phone digits", {"q": phone[-10:]}),
        DeskQuery("search: name", {"q": name}),
        DeskQuery("date range: 30 days", {"from": (month_end - timedelta(days=29)).isoformat(), "to": month_end}),
        DeskQuery("assignee", {"assigned": staff_id}),
        DeskQuery("source: api", {"source": "api"}),
        # Every open admin page polls these: the pending badge every 15 s, the desk's new-order notice every 10 s.
        DeskQuery("polled: pending badge", {}, "/admin/orders/pending-count"),
        DeskQuery("polled: new orders notice", {"since": newest}, "/admin/orders/new"),
    ]


def time_desk_query(bench: Bench, session: requests.Session, query: DeskQuery) -> list[float]:
    url = bench.url + query.url
    timings, budget_ends = [], time.monotonic() + 20
    for attempt in range(bench.profile.admin_samples + 2):
        started = time.perf_counter()
        answer = session.get(url, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            bench.report.errors.append(f"order desk {query.name}: answered {answer.status_code}")
            return timings
        if attempt >= 2:  # two warm-up requests
            timings.append(elapsed)
        if time.monotonic() > budget_ends and len(timings) >= 5:
            break
    return timings


DESK_RUNS = 3  # issue 18: every filter under the target in three consecutive runs, not in one lucky run


def measure_order_desk(bench: Bench) -> None:
    """Every desk query timed in DESK_RUNS consecutive runs (the whole set, then again); each run's p95 shown."""
    session = staff_session(bench)
    with bench.db() as conn:
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    queries = desk_queries(bench, session)
    runs = [[time_desk_query(bench, session, query) for query in queries] for _ in range(DESK_RUNS)]
    slow = []
    for number, query in enumerate(queries):
        timings = [run[number] for run in runs]
        p95s = [percentile(run_timings, 95) for run_timings in timings]
        passed = all(timings) and max(p95s) < ADMIN_TARGET_MS
        if not passed:
            slow.append(query.url)
        everything = [timing for run_timings in timings for timing in run_timings]
        bench.report.add(
            Row(
                f"order desk: {query.name}",
                "p95 " + " / ".join(ms(p95) for p95 in p95s),
                ratio=f"p50 {ms(percentile(everything, 50))}",
                target=f"p95 < {ADMIN_TARGET_MS:.0f} ms in each of {DESK_RUNS} runs",
                passed=passed,
            )
        )
    bench.figures["slow_desk_urls"] = slow
    bench.report.notes.append(
        f"order desk: {orders:,} orders in the database; one staff member, requests one after another "
        f"({bench.profile.admin_samples} timed per query after 2 warm-ups), the whole set run {DESK_RUNS} times "
        "in a row; each run's p95 shown."
    )


# ---------------------------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------------------------


def measure_memory(bench: Bench) -> None:
    peaks = bench.stack.peak_rss()
    web, worker = max(peaks["web"] or [0.0]), max(peaks["worker"] or [0.0])
    bench.report.add(
        Row(
            f"peak RSS per web worker ({len(peaks['web'])} workers)",
            f"{web:.0f} MB",
            ratio=", ".join(f"{value:.0f}" for value in peaks["web"]),
            target="< 120 MB",
            passed=0 < web < 120,
        ),
        Row(
            f"peak RSS per queue worker ({len(peaks['worker'])} processes)",
            f"{worker:.0f} MB",
            ratio=", ".join(f"{value:.0f}" for value in peaks["worker"]),
            target="< 150 MB",
            passed=0 < worker < 150,
        ),
    )
