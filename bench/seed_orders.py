"""Bulk-load a realistic order history with PostgreSQL COPY: `python -m bench.seed_orders --orders 1000000`.

Two years of orders, more of them lately (a growing shop); ids follow time as real ones do. Old orders
are finished (mostly delivered, some cancelled), recent ones spread over every open status. Each order
has 1–4 lines of the demo catalog and the timeline events of the path it took; about 3 in 10 customers
come back (a pool of phones, each with its own name). Six fulfilment staff share the assigned orders.

Columns the seeder does not know (a later migration's) get a neutral value of their type, so a new
NOT NULL column does not break the load. The tables keep their indexes: COPY fills them as it goes.
"""

import argparse
import base64
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from checkout.orders.references import REFERENCE_ALPHABET

YEARS_OF_HISTORY = 2
CHUNK_ORDERS = 50_000
SEED_MARKER = "seeded_orders"  # bench_meta key: how many orders the seeder loaded
SEED_MAX_ID = "seed_max_order_id"  # bench_meta key: orders above this id were made by benchmark runs
STAFF = [
    ("Priya Nair", "priya.nair"),
    ("Arjun Mehta", "arjun.mehta"),
    ("Kavya Reddy", "kavya.reddy"),
    ("Rohan Gupta", "rohan.gupta"),
    ("Meera Iyer", "meera.iyer"),
    ("Vikram Singh", "vikram.singh"),
]
FIRST_NAMES = (  # noqa: SIM905
    "Aarav Aditi Aisha Akash Amit Ananya Anjali Arjun Asha Deepa Divya Farhan Gaurav Harini Ishaan Jaya Karan "
    "Kavita Lakshmi Manish Meena Mohit Neha Nikhil Pooja Rahul Ravi Riya Sameer Sanjay Shreya Sneha Suresh Tanvi "
    "Uday Varun Vidya Yash Zoya Imran Fatima Joseph Mary Wanjiru Otieno Grace"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Sharma Verma Patel Shah Iyer Nair Menon Reddy Rao Gupta Singh Kumar Das Bose Banerjee Chatterjee Khan "
    "Qureshi Fernandes D'Souza Pillai Joshi Kulkarni Desai Mehta Kapoor Malhotra Chopra Agarwal Jain Mishra "
    "Pandey Yadav Thakur Naidu Gill Sandhu Kamau Odhiambo"
).split()
STREETS = "MG Road|Linking Road|Park Street|Anna Salai|Brigade Road|FC Road|Residency Road|Civil Lines|Ring Road"
CITIES = "Mumbai 400050|Bengaluru 560001|Chennai 600002|Kolkata 700016|Pune 411004|Delhi 110054|Hyderabad 500001"
CARRIERS = ("Delhivery", "Blue Dart", "DTDC", "India Post", "Ekart")

# Where an order ends up, by age. Finished ones (older than two weeks): delivered or cancelled.
FINISHED = (("delivered", 86), ("cancelled", 14))
OPEN = (
    ("pending", 22),
    ("confirmed", 18),
    ("preparing", 16),
    ("shipped", 14),
    ("out_for_delivery", 8),
    ("delivered", 14),
    ("cancelled", 8),
)
PATH = {
    "delivery": ["pending", "confirmed", "preparing", "shipped", "out_for_delivery", "delivered"],
    "pickup": ["pending", "confirmed", "preparing", "ready_for_pickup", "delivered"],
}
PICKUP_EQUIVALENT = {"shipped": "ready_for_pickup", "out_for_delivery": "ready_for_pickup"}


def _weighted(pairs) -> list[str]:
    return [value for value, weight in pairs for _ in range(weight)]


FINISHED_POOL, OPEN_POOL = _weighted(FINISHED), _weighted(OPEN)


@dataclass(frozen=True)
class CatalogVariant:
    id: int
    product_name: str
    options_label: str
    sku: str
    price_minor: int


def plain_url(database_url: str) -> str:
    """psycopg wants postgresql://; the app's URLs may name the driver."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    return database_url


# ---------------------------------------------------------------------------------------------------------------
# Bookkeeping shared with the benchmark runner
# ---------------------------------------------------------------------------------------------------------------


def ensure_meta_table(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")


def read_meta(conn: psycopg.Connection, key: str) -> str | None:
    ensure_meta_table(conn)
    row = conn.execute("SELECT value FROM bench_meta WHERE key = %s", (key,)).fetchone()
    return row[0] if row else None


def write_meta(conn: psycopg.Connection, key: str, value) -> None:
    conn.execute(
        "INSERT INTO bench_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def seed_max_order_id(conn: psycopg.Connection) -> int:
    """Orders up to this id belong to the seeded history; anything above was made by a benchmark run."""
    value = read_meta(conn, SEED_MAX_ID)
    return int(value) if value is not None else 0


def seeded_order_count(conn: psycopg.Connection) -> int:
    value = read_meta(conn, SEED_MARKER)
    return int(value) if value is not None else 0


# ---------------------------------------------------------------------------------------------------------------
# Columns: what we generate, and a neutral value for any required column we don't know
# ---------------------------------------------------------------------------------------------------------------

ORDER_COLUMNS = (  # noqa: SIM905
    "id reference status_token checkout_key status source fulfilment customer_name customer_phone "
    "delivery_address payment_method note currency subtotal_minor delivery_fee_minor total_minor version "
    "created_at updated_at assigned_to_id carrier tracking_number tracking_url payment_status amount_paid_minor "
    "attention phone_verified_at confirmation_requested_at external_reference"
).split()
LINE_COLUMNS = "order_id variant_id product_name options_label sku unit_price_minor quantity line_total_minor".split()  # noqa: SIM905
EVENT_COLUMNS = "order_id created_at kind actor staff_user_id from_status to_status note".split()  # noqa: SIM905

NEUTRAL_BY_TYPE = {
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "boolean": "f",
    "text": "",
    "character varying": "",
    "json": "{}",
    "jsonb": "{}",
    "date": "1970-01-01",
    "timestamp with time zone": "1970-01-01 00:00:00+00",
    "timestamp without time zone": "1970-01-01 00:00:00",
    "numeric": "0",
}


@dataclass(frozen=True)
class CopyPlan:
    """The COPY column list for a table: the generated columns it still has, then unknown required ones."""

    table: str
    keep: tuple[int, ...]  # positions of generated values to send
    columns: tuple[str, ...]
    suffix: str  # tab-joined neutral values of the unknown required columns (with a leading tab)

    def line(self, values: tuple[str, ...]) -> str:
        return "\t".join(values[i] for i in self.keep) + self.suffix + "\n"

    @property
    def sql(self) -> str:
        return f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"


def copy_plan(conn: psycopg.Connection, table: str, generated: list[str]) -> CopyPlan:
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    existing = {name for name, *_ in rows}
    keep = tuple(i for i, name in enumerate(generated) if name in existing)
    extra_names, extra_values = [], []
    for name, data_type, nullable, default in rows:
        if name in generated or nullable == "YES" or default is not None:
            continue
        if data_type not in NEUTRAL_BY_TYPE:
            raise SystemExit(f"{table}.{name} ({data_type}) is required and unknown to the seeder: teach it")
        extra_names.append(name)
        extra_values.append(NEUTRAL_BY_TYPE[data_type])
    suffix = "".join("\t" + value for value in extra_values)
    return CopyPlan(table, keep, tuple(generated[i] for i in keep) + tuple(extra_names), suffix)


# ---------------------------------------------------------------------------------------------------------------
# Generating the history
# ---------------------------------------------------------------------------------------------------------------


def load_catalog(conn: psycopg.Connection) -> list[CatalogVariant]:
    rows = conn.execute(
        "SELECT v.id, p.name, v.options, v.sku, v.price_minor FROM variants v JOIN products p ON p.id = v.product_id "
        "ORDER BY v.id"
    ).fetchall()
    if not rows:
        raise SystemExit("The catalog is empty: run `flask --app wsgi seed-demo` first.")
    return [
        CatalogVariant(vid, name, ", ".join(f"{k}: {v}" for k, v in (options or {}).items()), sku, price)
        for vid, name, options, sku, price in rows
    ]


def ensure_staff(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """Fulfilment staff to assign orders to (they cannot sign in: their password hash matches nothing)."""
    now = datetime.now(UTC)
    for name, login in STAFF:
        conn.execute(
            "INSERT INTO staff_users (email, name, password_hash, role, active, created_at) "
            "VALUES (%s, %s, '!', 'fulfilment', true, %s) ON CONFLICT (email) DO NOTHING",
            (f"{login}@bench.example", name, now),
        )
    emails = [f"{login}@bench.example" for _, login in STAFF]
    return conn.execute("SELECT id, name FROM staff_users WHERE email = ANY(%s) ORDER BY id", (emails,)).fetchall()


def reference_for(order_id: int) -> str:
    """A unique, random-looking reference per id: an odd multiplier is a bijection on 32^8."""
    value = (order_id * 0x9E3779B1 + 0x5BD1E995) % (32**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(REFERENCE_ALPHABET[digit])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


class HistoryGenerator:
    def __init__(self, count: int, first_id: int, catalog, staff, rng: random.Random, now: datetime):
        self.count, self.first_id, self.catalog, self.staff, self.rng, self.now = (
            count,
            first_id,
            catalog,
            staff,
            rng,
            now,
        )
        start = now - timedelta(days=365 * YEARS_OF_HISTORY)
        span = (now - start).total_seconds()
        # Linear growth: density rises with time, so the square root of a uniform draw.
        offsets = sorted(span * rng.random() ** 0.5 for _ in range(count))
        self.created = [start + timedelta(seconds=offset) for offset in offsets]
        customers = max(1, int(count * 0.7))
        self.phones = [f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}" for _ in range(customers)]
        self.names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(customers)]

    def status_for(self, created: datetime, fulfilment: str) -> str:
        age = self.now - created
        status = self.rng.choice(FINISHED_POOL if age > timedelta(days=14) else OPEN_POOL)
        if fulfilment == "pickup":
            status = PICKUP_EQUIVALENT.get(status, status)
        return status

    def orders(self, start: int, stop: int):
        """(order row, line rows, event rows) for positions start..stop-1 of the history."""
        rng, now = self.rng, self.now
        token_bytes = os.urandom(18 * (stop - start))
        for position in range(start, stop):
            order_id = self.first_id + position
            created = self.created[position]
            customer = rng.randrange(len(self.phones))
            source = rng.choices(("website", "whatsapp", "api"), (70, 25, 5))[0]
            fulfilment = "pickup" if rng.random() < 0.2 else "delivery"
            status = self.status_for(created, fulfilment)
            payment_method = "cod" if rng.random() < 0.6 else "transfer"

            lines, subtotal = [], 0
            for variant in rng.sample(self.catalog, rng.choices((1, 2, 3, 4), (55, 28, 12, 5))[0]):
                quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
                total = variant.price_minor * quantity
                subtotal += total
                lines.append(
                    (
                        str(order_id),
                        str(variant.id),
                        variant.product_name,
                        variant.options_label,
                        variant.sku,
                        str(variant.price_minor),
                        str(quantity),
                        str(total),
                    )
                )
            fee = 0 if fulfilment == "pickup" or subtotal >= 150000 else 5000
            paid = status == "delivered" or (payment_method == "transfer" and status not in ("pending", "cancelled"))

            steps = PATH[fulfilment][: PATH[fulfilment].index(status) + 1] if status != "cancelled" else ["pending"]
            staff_id, staff_name = rng.choice(self.staff) if self.staff else (None, "Staff")
            assigned = staff_id if status != "pending" and rng.random() < 0.6 else None
            moment = created
            events = [(str(order_id), stamp(created), "created", "customer", r"\N", r"\N", "pending", "")]
            for before, after in zip(steps, steps[1:], strict=False):
                moment = min(now, moment + timedelta(minutes=rng.randrange(20, 60 * 30)))
                events.append((str(order_id), stamp(moment), "status", staff_name, str(staff_id), before, after, ""))
            if status == "cancelled":
                moment = min(now, moment + timedelta(minutes=rng.randrange(5, 60 * 20)))
                events.append(
                    (str(order_id), stamp(moment), "status", "customer", r"\N", "pending", "cancelled", "Changed mind")
                )
            shipped = status in ("shipped", "out_for_delivery") or (status == "delivered" and fulfilment == "delivery")
            token = base64.urlsafe_b64encode(token_bytes[(position - start) * 18 : (position - start + 1) * 18])
            address = (
                f"{rng.randrange(1, 400)}, {rng.choice(STREETS.split('|'))}, {rng.choice(CITIES.split('|'))}"
                if fulfilment == "delivery"
                else ""
            )
            order = (
                str(order_id),
                reference_for(order_id),
                token.decode(),
                r"\N",
                status,
                source,
                fulfilment,
                self.names[customer],
                self.phones[customer],
                address,
                payment_method,
                "Please call before delivery" if rng.random() < 0.05 else "",
                "INR",
                str(subtotal),
                str(fee),
                str(subtotal + fee),
                str(len(events)),
                stamp(created),
                stamp(moment),
                str(assigned) if assigned else r"\N",
                rng.choice(CARRIERS) if shipped else "",
                f"TRK{rng.randrange(10**10):010d}" if shipped else "",
                "",
                "paid" if paid else "unpaid",
                str(subtotal + fee) if paid else "0",
                "",
                stamp(created) if source == "whatsapp" else r"\N",
                stamp(created),
                f"EXT-{order_id}" if source == "api" else "",
            )
            yield order, lines, events


def seed(database_url: str, count: int, *, quiet: bool = False) -> int:
    """Load `count` orders after the existing ones; returns how many seeded orders the database now has."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    began = time.monotonic()
    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        ensure_meta_table(conn)
        catalog = load_catalog(conn)
        staff = ensure_staff(conn)
        first_id = (conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]) + 1
        plans = {
            "orders": copy_plan(conn, "orders", ORDER_COLUMNS),
            "order_lines": copy_plan(conn, "order_lines", LINE_COLUMNS),
            "order_events": copy_plan(conn, "order_events", EVENT_COLUMNS),
        }
        history = HistoryGenerator(count, first_id, catalog, staff, random.Random(20240601), datetime.now(UTC))
        for start in range(0, count, CHUNK_ORDERS):
            stop = min(count, start + CHUNK_ORDERS)
            orders, lines, events = [], [], []
            for order, order_lines, order_events in history.orders(start, stop):
                orders.append(plans["orders"].line(order))
                lines.extend(plans["order_lines"].line(line) for line in order_lines)
                events.extend(plans["order_events"].line(event) for event in order_events)
            with conn.transaction():
                for table, rows in (("orders", orders), ("order_lines", lines), ("order_events", events)):
                    with conn.cursor().copy(plans[table].sql) as copy:
                        copy.write("".join(rows))
            say(f"  seeded {stop:,} / {count:,} orders ({time.monotonic() - began:.0f} s)")
        for table in ("orders", "order_lines", "order_events"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        total = seeded_order_count(conn) + count
        write_meta(conn, SEED_MARKER, total)
        write_meta(conn, SEED_MAX_ID, first_id + count - 1)
        say("  analysing…")
        conn.execute("VACUUM ANALYZE orders")
        conn.execute("VACUUM ANALYZE order_lines")
        conn.execute("VACUUM ANALYZE order_events")
    say(f"  {count:,} orders seeded in {time.monotonic() - began:.0f} s")
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL")
    parser.add_argument("--orders", type=int, default=1_000_000, help="how many seeded orders the database should hold")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres", "postgresql")):
        parser.error("give a PostgreSQL --database-url (or DATABASE_URL)")
    with psycopg.connect(plain_url(args.database_url), autocommit=True) as conn:
        have = seeded_order_count(conn)
    if have >= args.orders:
        print(f"{have:,} seeded orders already; nothing to do.")
        return 0
    seed(args.database_url, args.orders - have)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
