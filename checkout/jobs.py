"""The job queue (Huey): deliveries, webhook processing, and the periodic sweeps.

Storage: SQLite in instance/ by default (nothing to install), Redis when REDIS_URL is set (many
workers on many hosts). The queue only carries nudges: every job re-reads the database, which is
the source of truth, so a lost or repeated job costs a little time and never a message.

Run workers with `flask worker` (or `huey_consumer checkout.jobs.huey`).
"""

import logging
from datetime import datetime

from flask import has_app_context
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.storage import RedisStorage

from checkout.config import queue_config

log = logging.getLogger(__name__)


def _build_huey():
    config = queue_config()
    # Results are not needed: jobs report through the database.
    if config["backend"] == "redis":
        return RedisHuey("chatout", url=config["redis_url"], results=False, blocking=True)
    if config["backend"] == "memory":
        return MemoryHuey("chatout", results=False)
    return SqliteHuey("chatout", filename=config["sqlite_path"], results=False)


huey = _build_huey()
_worker_app = None


def _run_in_app(function, *args):
    """Run a job inside the Flask app: the caller's when there is one, else one app per worker process."""
    global _worker_app
    if has_app_context():
        return function(*args)
    if _worker_app is None:
        from checkout import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        try:
            return function(*args)
        finally:
            from checkout.extensions import db

            db.session.remove()


@huey.task()
def deliver_task(item_id: int):
    from checkout import outbox

    return _run_in_app(outbox.deliver, item_id)


@huey.task()
def process_webhooks_task():
    """Drain the stored webhooks. The flag goes first: a POST that finds it gone after its commit nudges
    again, and one that still finds it committed before this drain looks."""
    from checkout.whatsapp import webhooks

    _clear_webhook_flag()
    return _run_in_app(webhooks.process_pending)


@huey.periodic_task(crontab(minute="*"))
def sweep_task():
    """Every minute: re-queue what missed its nudge, then the time-driven work (reminders, expiries)."""
    from checkout import outbox
    from checkout.notifications import run_scheduled_work
    from checkout.whatsapp import webhooks

    def sweep():
        for item_id in outbox.due_item_ids():
            deliver_task(item_id)
        if webhooks.unprocessed_event_ids(limit=1):
            _clear_webhook_flag()  # whatever nudge it marks was lost
            process_webhooks_task()
        run_scheduled_work()

    _run_in_app(sweep)


def _enqueue(task, *args, at: datetime | None = None) -> None:
    """Nudge the queue; never fail the caller — the periodic sweep catches anything this loses."""
    try:
        if at is None:
            task(*args)
        else:
            task.schedule(args=args, eta=at)
    except Exception:  # the queue being down must not undo a committed order
        log.exception("could not enqueue %s%s; the sweep will pick it up", task.name, args)


def nudge_delivery(item_ids: list[int], at: datetime | None = None) -> None:
    for item_id in item_ids:
        _enqueue(deliver_task, item_id, at=at)


# On Redis, "a drain is queued and has not started": set by the first POST of a burst, cleared by the
# drain as it starts. It expires, so a lost drain job delays processing by seconds, not until the sweep.
WEBHOOK_FLAG = "chatout:webhooks:drain-queued"
WEBHOOK_FLAG_SECONDS = 10


def nudge_webhook_processing() -> None:
    """After a webhook is committed: make sure a drain will run after this commit (one per burst)."""
    redis_client = _redis_client()
    if redis_client is not None:
        try:
            if not redis_client.set(WEBHOOK_FLAG, 1, nx=True, ex=WEBHOOK_FLAG_SECONDS):
                return  # a drain is queued and has not started: it will see this event
        except Exception:
            log.exception("could not check the webhook drain flag; nudging anyway")
    _enqueue(process_webhooks_task)


def _clear_webhook_flag() -> None:
    redis_client = _redis_client()
    if redis_client is not None:
        try:
            redis_client.delete(WEBHOOK_FLAG)
        except Exception:
            log.exception("could not clear the webhook drain flag; it expires by itself")


def _redis_client():
    """The Redis connection of the queue, when the queue is on Redis (else every webhook nudges)."""
    return huey.storage.conn if isinstance(huey.storage, RedisStorage) else None


def worker_app_for_tests(app) -> None:
    """Run jobs in the given app (the `flask worker` command's own, or a test's)."""
    global _worker_app
    _worker_app = app


def queue_backend() -> str:
    return queue_config()["backend"]
