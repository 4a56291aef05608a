"""Why an admin page is slow: every SQL statement it runs, timed, and EXPLAIN ANALYZE of the slowest ones.

Run by bench/run.py (in the bench environment) for order-desk queries that missed their target:
`python -m bench.explain /admin/orders?status=pending …`. The pages are requested through the real
app with Flask's test client, signed in as the bench staff owner; the SQL is captured as the driver
receives it, so the EXPLAIN runs exactly the statement and parameters the page ran.
"""

import re
import sys
import time

from sqlalchemy import event

from bench.stack import STAFF_EMAIL, STAFF_PASSWORD
from checkout import create_app
from checkout.extensions import db

SLOW_STATEMENT_MS = 5.0
EXPLAINED_PER_PAGE = 3


def _sign_in(client) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]*)"', page).group(1)
    answer = client.post("/admin/login", data={"csrf_token": token, "email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    if answer.status_code not in (302, 303):
        raise SystemExit(f"sign-in failed: {answer.status_code}")


def _shorten(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip()


def explain_pages(urls: list[str]) -> str:
    app = create_app()
    captured: list[dict] = []

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        elapsed = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
        captured.append({"sql": statement, "params": parameters, "ms": elapsed})

    sections = []
    with app.test_client() as client:
        _sign_in(client)
        for url in urls:
            client.get(url)  # warm
            captured.clear()
            started = time.perf_counter()
            status = client.get(url).status_code
            total = (time.perf_counter() - started) * 1000
            statements = list(captured)
            lines = [f"### `GET {url}` — {status}, {total:.0f} ms in the app, {len(statements)} statements", ""]
            for item in sorted(statements, key=lambda s: -s["ms"]):
                lines.append(f"- {item['ms']:.1f} ms: `{_shorten(item['sql'])[:300]}`")
            slow = [s for s in sorted(statements, key=lambda s: -s["ms"]) if s["ms"] >= SLOW_STATEMENT_MS]
            for item in slow[:EXPLAINED_PER_PAGE]:
                with app.app_context(), db.engine.connect() as conn:
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + item["sql"], item["params"])
                    text = "\n".join(row[0] for row in plan)
                lines += ["", f"EXPLAIN ANALYZE of the {item['ms']:.0f} ms statement:", "", "```", text, "```"]
            sections.append("\n".join(lines))
    return "\n\n".join(sections)


if __name__ == "__main__":
    print(explain_pages(sys.argv[1:]))
