"""How fast the staff inbox answers with 100,000 conversations: the first page, each filter, search, the badge.

    .venv/bin/python -m bench.inbox                       # SQLite, in a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/chatout_bench_inbox .venv/bin/python -m bench.inbox
    .venv/bin/python -m bench.inbox --smoke               # 2,000 conversations, a few rounds: fails only on errors

In-process, through the app (no web server): each figure is the p95 of repeated calls, both of the query alone
(checkout/staff/inbox.py) and of the whole page through Flask's test client, signed in. The data is bulk-inserted:
every conversation has a contact and two messages; 30 % have something unread, 40 % are assigned to one of six
staff, 2 % wait for a person, one in five customers has orders (a quarter of them open). On PostgreSQL the
database must be a scratch one (its name contains "bench"): its tables are dropped and made again.
Exit status 1 when anything fails; a p95 over the 50 ms target is printed, not an error.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import insert, select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from checkout import create_app
from checkout.cli import MIGRATIONS, enable_migrations
from checkout.extensions import db
from checkout.models import Contact, Conversation, Message, Order, StaffUser
from checkout.staff import inbox

TARGET_MS = 50.0
STAFF = 6
CHUNK = 5_000
PASSWORD = "bench inbox password"


def _app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-inbox",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WHATSAPP_PROVIDER": "sandbox",
        }
    )


def _fresh_schema(url: str) -> None:
    if url.startswith("postgres") and "bench" not in (make_url(url).database or ""):
        raise SystemExit("bench.inbox drops every table: point DATABASE_URL at a scratch database named *bench*")
    # The app's own migrations, not create_all: PostgreSQL's trigram indexes for search exist only there.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sql("DROP SCHEMA public CASCADE"))
        db.session.execute(sql("CREATE SCHEMA public"))
        db.session.commit()
    else:
        db.drop_all()
        db.session.execute(sql("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    enable_migrations(current_app)
    upgrade(directory=str(MIGRATIONS))


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def seed(conversations: int, chooser: random.Random) -> None:
    """Bulk-insert the staff, contacts, conversations, their messages and some orders."""
    staff = [
        StaffUser(email=f"staff{i}@bench.example", name=f"Staff {i}", role="owner" if i == 0 else "fulfilment")
        for i in range(STAFF)
    ]
    for person in staff:
        person.set_password(PASSWORD)
    db.session.add_all(staff)
    db.session.commit()
    staff_ids = [person.id for person in staff]
    now = datetime.now(UTC)
    phones = [f"+9199{number:08d}" for number in range(conversations)]
    for part in _chunks(phones):
        db.session.execute(insert(Contact), [{"phone": phone, "name": f"Customer {phone[-6:]}"} for phone in part])
    contact_ids = dict(db.session.execute(select(Contact.phone, Contact.id)).all())
    conversation_rows, message_rows, order_rows = [], [], []
    for number, phone in enumerate(phones):
        at = now - timedelta(seconds=chooser.randint(0, 90 * 24 * 3600))
        waiting = chooser.random() < 0.02
        conversation_rows.append(
            {
                "contact_id": contact_ids[phone],
                "phone": phone,
                "name": f"Customer {phone[-6:]}",
                "handled_by": "person" if waiting else "bot",
                "assigned_to_id": chooser.choice(staff_ids) if chooser.random() < 0.4 else None,
                "waiting_since": at if waiting else None,
                "last_activity_at": at,
                "last_inbound_at": at,
                "last_preview": f"Do you have the blue kurta {number}?",
                "unread_count": chooser.randint(1, 4) if chooser.random() < 0.3 else 0,
                "flow_data": {},
            }
        )
        for offset, text in ((60, f"Do you have the blue kurta {number}?"), (0, "Thank you!")):
            message_rows.append(
                {
                    "direction": "in",
                    "phone": phone,
                    "kind": "text",
                    "payload": {},
                    "body_text": text,
                    "status": "received",
                    "created_at": at - timedelta(seconds=offset),
                }
            )
        if chooser.random() < 0.2:
            order_rows.append(
                {
                    "reference": f"B{number:07d}",
                    "status_token": f"bench-inbox-{number}",
                    "status": "pending" if chooser.random() < 0.25 else "delivered",
                    "customer_name": f"Customer {phone[-6:]}",
                    "customer_phone": phone,
                    "payment_method": "cod",
                    "currency": "INR",
                    "subtotal_minor": 10000,
                    "delivery_fee_minor": 0,
                    "total_minor": 10000,
                    "created_at": at,
                }
            )
    for table, rows in ((Conversation, conversation_rows), (Message, message_rows), (Order, order_rows)):
        for part in _chunks(rows):
            db.session.execute(insert(table), part)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def p95_ms(call, rounds: int) -> float:
    call()  # warm
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]


def measure(app, rounds: int) -> list[tuple[str, float, float]]:
    """(what, p95 of the query alone, p95 of the page through Flask) for each measured screen."""
    with app.app_context():
        me = db.session.scalar(select(StaffUser).where(StaffUser.role == "owner"))
        my_id, email = me.id, me.email
        db.session.remove()
    client = app.test_client()
    signed_in = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    if signed_in.status_code != 302:
        raise SystemExit(f"sign-in failed: {signed_in.status_code}")
    cases = [(label, key, "") for key, label in inbox.FILTERS.items()]
    cases += [("Search by name", inbox.ALL, "Customer 0012"), ("Search by message", inbox.ALL, "blue kurta 4242")]
    results = []
    for label, show, search in cases:
        query = inbox.InboxQuery(show=show, search=search)

        def listed(query=query):
            with app.app_context():
                inbox.inbox_page(query, my_id)
                db.session.remove()

        url = "/admin/inbox?" + urlencode({"show": show, "q": search})

        def page(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

        results.append((f"List: {label}", p95_ms(listed, rounds), p95_ms(page, rounds)))

    def badge_count():
        with app.app_context():
            inbox.unread_total()
            db.session.remove()

    def badge_page():
        if client.get("/admin/inbox/unread-count").status_code != 200:
            raise RuntimeError("the badge failed")

    results.append(("Unread badge", p95_ms(badge_count, rounds), p95_ms(badge_page, rounds)))

    # One conversation, as staff open it from the list: a different one each time, spread over the whole table.
    with app.app_context():
        ids = list(db.session.scalars(select(Conversation.id).order_by(Conversation.id)))
        db.session.remove()
    picks = random.Random(18)

    def one_conversation():
        with app.app_context():
            conversation = inbox.get_conversation(picks.choice(ids))
            inbox.conversation_view(conversation)
            db.session.remove()

    def conversation_page():
        url = f"/admin/inbox/{picks.choice(ids)}"
        if client.get(url).status_code != 200:
            raise RuntimeError(f"{url} failed")

    results.append(("One conversation", p95_ms(one_conversation, rounds), p95_ms(conversation_page, rounds)))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="2,000 conversations, 5 rounds: fails only on errors")
    parser.add_argument("--json", help="also write the figures here (bench/run.py puts them in its table)")
    args = parser.parse_args(argv)
    conversations, rounds = (2_000, 5) if args.smoke else (args.conversations, args.rounds)
    scratch = None
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        scratch = tempfile.mkdtemp(prefix="chatout-bench-inbox-")
        url = f"sqlite:///{scratch}/inbox.sqlite3"
    app = _app(url)
    with app.app_context():
        _fresh_schema(app.config["SQLALCHEMY_DATABASE_URI"])
        started = time.perf_counter()
        seed(conversations, random.Random(15))
        seeded_in = time.perf_counter() - started
        database = f"{db.engine.dialect.name} {db.engine.dialect.server_version_info or ''}".strip()
        db.session.remove()
    print(f"Inbox with {conversations:,} conversations on {database} (seeded in {seeded_in:.0f} s), p95 of {rounds}:")
    results = measure(app, rounds)
    width = max(len(label) for label, _, _ in results)
    print(f"{'':{width}}  {'query':>9}  {'page':>9}")
    slow = []
    for label, query_ms, page_ms in results:
        mark = "" if query_ms < TARGET_MS else "  over the target"
        print(f"{label:{width}}  {query_ms:7.1f} ms  {page_ms:7.1f} ms{mark}")
        if query_ms >= TARGET_MS:
            slow.append(label)
    print(f"target: p95 < {TARGET_MS:.0f} ms for the query; {'all met' if not slow else 'missed: ' + ', '.join(slow)}")
    if args.json:
        figures = [{"what": label, "query_ms": query_ms, "page_ms": page_ms} for label, query_ms, page_ms in results]
        Path(args.json).write_text(
            json.dumps({"conversations": conversations, "database": database, "rounds": rounds, "figures": figures})
        )
    with app.app_context():
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
