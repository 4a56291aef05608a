"""The production app plus two reference routes the benchmark measures everything against.

gunicorn serves `bench.app:app` only during a benchmark run; the routes never exist in production.

/bench/floor          one INSERT + COMMIT through the app's own session and pool, a 2-byte answer:
                      the cheapest thing a request that writes can do on this stack.
/bench/static/<size>  a pre-rendered HTML page of exactly <size> bytes: what a page of that size
                      costs with no queries and no template work.
"""

import gc
from functools import lru_cache

from flask import Blueprint, Response
from sqlalchemy import text

from checkout import create_app
from checkout.extensions import db

FLOOR_TABLE = "bench_floor"
MAX_STATIC_BYTES = 4 * 1024 * 1024

bench_blueprint = Blueprint("bench", __name__, url_prefix="/bench")


@bench_blueprint.get("/floor")
def floor():
    db.session.execute(text(f"INSERT INTO {FLOOR_TABLE} (at) VALUES (now())"))
    db.session.commit()
    return Response("ok", mimetype="text/plain")


@lru_cache(maxsize=16)
def static_page(size: int) -> bytes:
    head = b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Static</title></head><body><p>"
    tail = b"</p></body></html>\n"
    filler = max(0, size - len(head) - len(tail))
    page = head + b"x" * filler + tail
    return page[:size] if len(page) > size else page


@bench_blueprint.get("/static/<int:size>")
def static(size: int):
    if not 0 < size <= MAX_STATIC_BYTES:
        return Response("size out of range", status=404, mimetype="text/plain")
    return Response(static_page(size), mimetype="text/html")


app = create_app()
app.register_blueprint(bench_blueprint)
gc.collect()  # as wsgi.py does
gc.freeze()
