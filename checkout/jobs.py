"""The job queue (Huey): deliveries, webhook processing, and the periodic sweeps.

Storage: SQLite in instance/ by default (nothing to install), Redis when REDIS_URL is set (many
workers on many hosts). The queue takes its storage from the app's configuration when the app is
made (`init_app`, from CHATOUT_QUEUE, REDIS_URL and QUEUE_SQLITE_PATH in checkout/config.py), not when
this module is imported. The queue only carries nudges: every job re-reads the database, which is
the source of truth, so a lost or repeated job costs a little time and never a message.

Run workers with `flask --app wsgi worker`: the command's app, made by create_app like the web
server's, runs every job.
"""

import logging
from datetime import datetime

from flask import Flask, has_app_context
from huey import Huey, crontab
from huey.storage import BlackHoleStorage, MemoryStorage, RedisStorage, SqliteStorage

from checkout import outbox
from checkout.extensions import db
from checkout.notifications import run_scheduled_work
from checkout.whatsapp import media, webhooks

log = logging.getLogger(__name__)

QUEUE_NAME = "chatout"

# Results are not needed: jobs report through the database. Until an app is made the queue has nowhere to
# keep jobs (a nudge then goes nowhere, and the sweep finds the work in the database).
huey = Huey(QUEUE_NAME, results=False, storage_class=BlackHoleStorage)
_storage_settings: tuple | None = None
_jobs_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Give the queue the storage the app's configuration names. Apps configured alike share one storage, so
    every app of a process (the tests make one per test) nudges the same queue."""
    global _storage_settings
    settings = _storage_settings_of(app.config)
    if settings != _storage_settings:
        huey.storage = _storage(*settings)
        _storage_settings = settings


def _storage_settings_of(config) -> tuple:
    backend = config["CHATOUT_QUEUE"]
    if backend == "redis":
        return ("redis", config["REDIS_URL"])
    if backend == "memory":
        return ("memory", "")
    return ("sqlite", config["QUEUE_SQLITE_PATH"])


def _storage(backend: str, location: str):
    if backend == "redis":
        return RedisStorage(QUEUE_NAME, url=location, blocking=True)
    if backend == "memory":
        return MemoryStorage(QUEUE_NAME)
    return SqliteStorage(QUEUE_NAME, filename=location)


def run_jobs_in(app: Flask) -> None:
    """Run jobs in the given app when none is active: the `flask worker` command's own."""
    global _jobs_app
    _jobs_app = app


def _run_in_app(function, *args):
    """Run a job inside the Flask app: the caller's when there is one, else the worker's (`run_jobs_in`)."""
    if has_app_context():
        return function(*args)
    if _jobs_app is None:
        raise RuntimeError("No app to run jobs in: start workers with `flask --app wsgi worker`.")
    with _jobs_app.app_context():
        try:
            return function(*args)
        finally:
            db.session.remove()


@huey.task()
def deliver_task(item_id: int):
    return _run_in_app(outbox.deliver, item_id)


# Events one drain job takes before it queues its continuation: in a long backlog, drains on every thread would
# otherwise keep the sends queued meanwhile waiting until the backlog is gone (the queue is first in, first out).
DRAIN_TURN = 50


@huey.task()
def process_webhooks_task():
    """Drain the stored webhooks. The flag goes first: a POST that finds it gone after its commit nudges
    again, and one that still finds it committed before this drain looks."""
    _clear_webhook_flag()
    taken, processed = _run_in_app(webhooks.drain, DRAIN_TURN)
    if taken >= DRAIN_TURN:
        nudge_webhook_processing()  # more may be waiting: after the jobs queued while this one ran
    return processed


@huey.periodic_task(crontab(minute="*"))
def sweep_task():
    """Every minute: re-queue what missed its nudge, then the time-driven work (reminders, expiries)."""

    def sweep():
        for item_id in outbox.due_item_ids():
            deliver_task(item_id)
        if webhooks.unprocessed_event_ids(limit=1):
            _clear_webhook_flag()  # whatever nudge it marks was lost
            process_webhooks_task()
        for media_file_id in media.due_for_retry():
            download_media_task(media_file_id)
        run_scheduled_work()
        outbox.probe_paused_sending()  # a lost probe job costs at most a minute

    _run_in_app(sweep)


@huey.task()
def download_media_task(media_file_id: int):
    """Download one customer's picture, document or voice note from the Cloud API (checkout/whatsapp/media.py)."""
    return _run_in_app(media.download, media_file_id)


@huey.task()
def probe_sending_task():
    """While WhatsApp sending is paused (checkout/whatsapp/account_health.py): try one waiting message if due."""
    return _run_in_app(outbox.probe_paused_sending)


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


def nudge_media_download(media_file_ids: list[int], at: datetime | None = None) -> None:
    for media_file_id in media_file_ids:
        _enqueue(download_media_task, media_file_id, at=at)


def nudge_sending_probe(at: datetime) -> None:
    _enqueue(probe_sending_task, at=at)


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
