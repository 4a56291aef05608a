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
def process_webhook_task(event_id: int):
    from checkout.whatsapp import webhooks

    return _run_in_app(webhooks.process_event, event_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_task():
    """Every minute: re-queue what missed its nudge, then the time-driven work (reminders, expiries)."""
    from checkout import outbox
    from checkout.notifications import run_scheduled_work
    from checkout.whatsapp import webhooks

    def sweep():
        for item_id in outbox.due_item_ids():
            deliver_task(item_id)
        for event_id in webhooks.unprocessed_event_ids():
            process_webhook_task(event_id)
        run_scheduled_work()

    _run_in_app(sweep)


def _enqueue(task, argument, at: datetime | None = None) -> None:
    """Nudge the queue; never fail the caller — the periodic sweep catches anything this loses."""
    try:
        if at is None:
            task(argument)
        else:
            task.schedule(args=(argument,), eta=at)
    except Exception:  # the queue being down must not undo a committed order
        log.exception("could not enqueue %s(%s); the sweep will pick it up", task.name, argument)


def nudge_delivery(item_ids: list[int], at: datetime | None = None) -> None:
    for item_id in item_ids:
        _enqueue(deliver_task, item_id, at)


def nudge_webhook_processing(event_id: int) -> None:
    _enqueue(process_webhook_task, event_id)


def worker_app_for_tests(app) -> None:
    """Run jobs in the given app (the `flask worker` command's own, or a test's)."""
    global _worker_app
    _worker_app = app


def queue_backend() -> str:
    return queue_config()["backend"]
