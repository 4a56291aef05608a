"""How big a benchmark run is: the real one (`make bench`) and the few-second smoke run CI does."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    database: str  # created on 127.0.0.1 by the harness; never the shared `test` database
    redis_url: str
    seeded_orders: int  # the order history the admin queries run against
    clients: int  # concurrent clients of every load scenario
    duration: float  # seconds each throughput scenario runs (and its reference again)
    rounds: int  # the duration is split into rounds that alternate with the reference
    warmup: float  # seconds of warm-up load before the first measurement
    burst: int  # signed webhook events sent as fast as the clients can
    status_changes: int  # admin status changes timed until the fake Graph API has the message
    admin_samples: int  # timed requests per admin order-list query
    drain_timeout: float  # seconds to wait for the queue workers to catch up between scenarios
    web_workers: int
    queue_workers: int  # `flask --app wsgi worker` processes: docs/deploy.md runs two per host


def default_web_workers() -> int:
    """gunicorn workers: WEB_CONCURRENCY if set, else 2 × cores + 1 (gunicorn's own advice)."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return 2 * (os.cpu_count() or 1) + 1


def default_queue_workers() -> int:
    """Queue worker processes: BENCH_QUEUE_WORKERS if set (1 to compare with a single one), else 2 as
    docs/deploy.md runs them."""
    configured = os.environ.get("BENCH_QUEUE_WORKERS", "").strip()
    return int(configured) if configured.isdigit() and int(configured) > 0 else 2


def bench_database() -> str:
    """BENCH_DATABASE if set (two runs at once on one machine must not share a database), else chatout_bench."""
    return os.environ.get("BENCH_DATABASE", "").strip() or "chatout_bench"


def bench_redis_db() -> int:
    """BENCH_REDIS_DB if set, else 9; the smoke run uses the next one."""
    configured = os.environ.get("BENCH_REDIS_DB", "").strip()
    return int(configured) if configured.isdigit() else 9


def full_profile() -> Profile:
    return Profile(
        name="full",
        database=bench_database(),
        redis_url=f"redis://127.0.0.1:6379/{bench_redis_db()}",
        seeded_orders=1_000_000,
        clients=32,
        duration=12.0,
        rounds=3,
        warmup=3.0,
        burst=10_000,
        status_changes=120,
        admin_samples=40,
        drain_timeout=300.0,
        web_workers=default_web_workers(),
        queue_workers=default_queue_workers(),
    )


def smoke_profile() -> Profile:
    return Profile(
        name="smoke",
        database=f"{bench_database()}_smoke",
        redis_url=f"redis://127.0.0.1:6379/{bench_redis_db() + 1}",  # a smoke run must not empty a full run's queue
        seeded_orders=1_000,
        clients=2,
        duration=1.0,
        rounds=1,
        warmup=0.5,
        burst=100,
        status_changes=5,
        admin_samples=3,
        drain_timeout=30.0,
        web_workers=2,
        queue_workers=default_queue_workers(),  # as production: CI's smoke run starts, pauses and stops two
    )
