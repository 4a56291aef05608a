"""Real `flask worker` processes delivering through the fake Graph API: how fast, and what a kill costs.

The test process and the workers share the test's database and a real queue (SQLite in tmp_path, or a
Redis database). The test's own queue (memory, from tests/conftest.py) is pointed at that storage, so a
commit here nudges the workers exactly as the web app's commits do.
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import func, select, update

from checkout import jobs, outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Message, Order, OutboxItem, WebhookEvent
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.whatsapp import messages
from tests.messaging import payloads
from tests.messaging.conftest import cloud_settings, outbox_items, place, status_webhook

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
PHONES = ["+919876543210", "+919812345678", "+254712345678", "+447700900123", "+5511987654321"]
STARTUP_SECONDS = 20


class WorkerProcess:
    """`flask --app wsgi worker --workers 2` in its own process group, its output in a log file."""

    def __init__(self, env: dict, log_path: Path):
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(FLASK), "--app", "wsgi", "worker", "--workers", "2"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Chatout worker:" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"worker did not start:\n{self.output()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no goodbye, no cleanup, exactly like a crashed host."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A Redis no other test run shares: a private redis-server when installed, else a claimed database on 6379.

    Two runs of this suite on one Redis database would take each other's jobs (the queue is always "chatout").
    """
    server = shutil.which("redis-server")
    if server:
        port = _free_port()
        command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_until(lambda: _answers(url), 5, "the private redis-server")
            yield url
        finally:
            process.kill()
            process.wait(timeout=10)
        return
    if not _answers(SHARED_REDIS):
        pytest.skip("no redis-server installed and no Redis on 127.0.0.1:6379")
    shared = redis.Redis.from_url(SHARED_REDIS)
    for number in (15, 14, 13):
        claim = f"chatout-tests:redis-db:{number}"
        if shared.set(claim, os.getpid(), nx=True, ex=600):
            yield f"redis://127.0.0.1:6379/{number}"
            shared.delete(claim)
            return
    pytest.skip("every Redis database set aside for these tests is in use by another run")


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.ConnectionError:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, tmp_path, monkeypatch):
    """A real queue both sides use; returns the environment a worker needs to find it."""
    if request.param == "sqlite":
        path = tmp_path / "queue.sqlite3"
        storage, env = SqliteStorage("chatout", filename=str(path)), {"QUEUE_SQLITE_PATH": str(path)}
    else:
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        storage, env = RedisStorage("chatout", url=url), {"REDIS_URL": url}
    monkeypatch.setattr(jobs.huey, "storage", storage)
    return {**env, "backend": request.param}


@pytest.fixture
def start_worker(cloud_app, graph_api, queue, tmp_path):
    """Start worker processes on this test's database and queue; every one is killed at teardown."""
    started: list[WorkerProcess] = []
    queue_env = {k: v for k, v in queue.items() if k != "backend"}
    leave_out = {"CHATOUT_QUEUE", "REDIS_URL", "QUEUE_SQLITE_PATH", "DATABASE_URL"}

    def start(send_timeout: float = 5.0) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if k not in leave_out}
        env.update({k: str(v) for k, v in cloud_settings(graph_api.url, send_timeout).items()})
        env.update(queue_env, DATABASE_URL=cloud_app.config["SQLALCHEMY_DATABASE_URI"], PYTHONUNBUFFERED="1")
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        worker.start()
        assert f"on the {queue['backend']} queue" in worker.output()
        return worker

    yield start
    for worker in started:
        worker.kill()


def _wait_until(condition, timeout: float, what: str, worker: WorkerProcess | None = None):
    """Poll `condition` until it returns something true; on time-out fail with the outbox and the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    details = ""
    if worker is not None:
        items = "\n".join(
            f"  {i.idempotency_key}: {i.status}, {i.attempts} attempts, next {i.next_attempt_at:%H:%M:%S.%f}, "
            f"claimed until {i.claimed_until}, {i.last_error!r}"
            for i in outbox_items()
        )
        details = f"; at {utcnow():%H:%M:%S.%f} the outbox holds:\n{items}\nworker log:\n{worker.output()[-3000:]}"
    pytest.fail(f"timed out after {timeout} s waiting for {what}{details}")


def _all_done() -> bool:
    statuses = {item.status for item in outbox_items()}
    return statuses == {"done"}


def test_a_worker_delivers_each_message_moments_after_the_commit(cloud, graph_api, variant_id, start_worker):
    worker = start_worker()
    latencies, order_ids = [], []

    for number, phone in enumerate(PHONES):
        placing_started = time.monotonic()
        order_ids.append(place(variant_id, name=f"Customer {number}", phone=phone).id)
        db.session.remove()  # end the transaction: on SQLite an open one would lock the worker out
        [received] = _wait_until(lambda p=phone: graph_api.messages_to(p[1:]), 10, f"the message to {phone}", worker)
        latencies.append(received.monotonic - placing_started)

    for order_id in order_ids[:2]:
        for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING):
            transition(db.session.get(Order, order_id), status, actor="Test Staff")
            db.session.commit()
    db.session.remove()
    _wait_until(lambda: len(graph_api.messages) == len(PHONES) + 4, 10, "the status updates", worker)
    _wait_until(_all_done, 10, "the outbox to be done", worker)

    for phone in PHONES[:2]:
        names = [m.tracking.split(":")[0] for m in graph_api.messages_to(phone[1:])]
        assert names == ["confirm-request", "status", "status"]
    assert Counter(m.tracking for m in graph_api.messages).most_common(1)[0][1] == 1
    print(
        f"\norder placed → Meta received, with a real worker: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} orders"
    )
    assert max(latencies) < 3.0


def test_a_worker_sends_the_reply_to_a_customers_tap_at_once_not_at_the_next_sweep(
    cloud, graph_api, variant_id, start_worker
):
    """The tap is handled in a savepoint of the webhook's transaction; the worker is nudged only after it commits.

    Without the nudge the reply would wait for the once-a-minute sweep; 3 s leaves room for a loaded CI machine
    (it missed 1.0 s by 4 ms once). The latency itself is bench's figure (the chat order scenario)."""
    worker = start_worker()
    digits = PHONES[0][1:]
    reference = place(variant_id, phone=PHONES[0]).reference
    db.session.remove()
    _wait_until(lambda: graph_api.messages_to(digits), 10, "the confirmation request", worker)

    tapped_at = time.monotonic()
    tap = payloads.template_button(f"confirm:{reference}", wa_id=digits)
    assert payloads.post_signed(cloud.test_client(), cloud, tap).status_code == 200
    db.session.remove()
    reply = _wait_until(lambda: graph_api.messages_to(digits)[1:2], 10, "the reply", worker)[0]

    assert reply.tracking.startswith("status:")
    assert reply.monotonic - tapped_at < 3.0
    print(f"\ntap → acknowledgement at Meta: {(reply.monotonic - tapped_at) * 1000:.0f} ms")


def test_a_worker_retries_a_failed_send_on_schedule_without_waiting_for_the_sweep(
    cloud, graph_api, variant_id, start_worker
):
    worker = start_worker()
    graph_api.fail_next("server_error")

    committed_at = time.monotonic()
    place(variant_id, phone=PHONES[0])
    db.session.remove()
    [received] = _wait_until(lambda: graph_api.messages_to(PHONES[0][1:]), 15, "the retried message", worker)

    waited = received.monotonic - committed_at
    low, high = outbox.BACKOFF_BASE_SECONDS * 0.8, outbox.BACKOFF_BASE_SECONDS * 1.2
    # Not before the backoff; soon after it (a one-second scheduler tick, some slack for a busy machine), and
    # long before the periodic sweep, which first comes back a minute after the worker started.
    assert low <= waited <= high + 3
    _wait_until(_all_done, 5, "the worker to record the send", worker)
    [item] = outbox_items()
    assert (item.status, item.attempts) == ("done", 2)
    assert len(graph_api.requests) == 2
    print(f"\nretry after a 500 arrived {waited:.2f} s after the commit (backoff {low:.0f}–{high:.0f} s)")


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(cloud, graph_api, variant_id, start_worker):
    graph_api.slow = 0.5  # each send takes half a second, so the kill lands mid-send
    first = start_worker()
    for number in range(10):
        outbound = messages.text_message(f"test:{number}", f"Message {number}")
        outbox.enqueue_whatsapp(outbound, phone=PHONES[number % 5], key=f"batch:{number:02d}")
    db.session.commit()  # one commit, ten nudges
    db.session.remove()

    time.sleep(1.2)
    first.kill()
    items = outbox_items()
    in_flight = {item.idempotency_key for item in items if item.status == "pending" and item.claimed_until}
    done_before_kill = sum(item.status == "done" for item in items)
    assert done_before_kill < 10  # the kill landed mid-batch
    assert len(in_flight) <= 2  # two threads: at most two sends were under way

    # The claims of the dead worker run out (CLAIM_SECONDS, shortened here) and the sweep re-queues what is due.
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == "pending", OutboxItem.claimed_until.is_not(None))
        .values(claimed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    second = start_worker()
    jobs.nudge_delivery(outbox.due_item_ids())

    def the_rest_done_and_the_in_flight_waiting_for_meta():
        items = outbox_items()
        waiting = {item.idempotency_key for item in items if item.status == "pending" and item.in_doubt}
        return waiting == in_flight and all(
            item.status == "done" for item in items if item.idempotency_key not in waiting
        )

    _wait_until(the_rest_done_and_the_in_flight_waiting_for_meta, 20, "the second worker to finish the batch", second)

    # Meta's status webhooks report what the dead worker got through; anything it did not is sent after the wait.
    reported = {received.tracking for received in graph_api.messages if received.tracking in in_flight}
    client = cloud.test_client()
    for received in graph_api.messages:
        if received.tracking in reported:
            assert payloads.post_signed(client, cloud, status_webhook(received, "sent")).status_code == 200
    db.session.remove()

    def reported_done():
        return all(item.status == "done" for item in outbox_items() if item.idempotency_key in reported)

    _wait_until(reported_done, 20, "the worker to process Meta's status reports", second)
    db.session.execute(
        update(OutboxItem).where(OutboxItem.status == "pending").values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    jobs.nudge_delivery(outbox.due_item_ids())
    _wait_until(_all_done, 20, "the second worker to send what Meta never had", second)

    copies = Counter(m.tracking for m in graph_api.messages)
    assert set(copies) == {f"batch:{n:02d}" for n in range(10)}  # nothing lost
    assert max(copies.values()) == 1, "a send under way when the worker died went out twice"
    for phone in PHONES:
        keys = [m.tracking for m in graph_api.messages_to(phone[1:])]
        expected = sorted(
            db.session.scalars(select(OutboxItem.idempotency_key).where(OutboxItem.ordering_key == phone))
        )
        assert sorted(keys) == expected
    db.session.remove()
    print(f"\nkilled mid-batch: {done_before_kill}/10 sent before the kill, {len(in_flight)} in flight, none twice")


def _unprocessed_webhooks() -> int:
    count = db.session.scalar(select(func.count()).where(WebhookEvent.processed_at.is_(None)))
    db.session.rollback()
    return count


def test_a_burst_of_webhooks_is_drained_by_a_worker_with_one_queue_job_on_redis(cloud, queue, start_worker):
    """The first POST of a burst queues a drain; on Redis the rest see it queued and add nothing."""
    client = cloud.test_client()
    for number in range(12):
        body = payloads.text(f"burst {number}", wa_id="919876543210")
        assert payloads.post_signed(client, cloud, body).status_code == 200
    db.session.remove()
    assert jobs.huey.pending_count() == (1 if queue["backend"] == "redis" else 12)

    worker = start_worker()
    _wait_until(lambda: _unprocessed_webhooks() == 0, 15, "the worker to drain the burst", worker)
    texts = db.session.scalars(select(Message.body_text).where(Message.direction == "in").order_by(Message.id)).all()
    assert texts == [f"burst {number}" for number in range(12)]

    # The drain took the flag down as it started: the next webhook queues a drain of its own.
    assert payloads.post_signed(client, cloud, payloads.text("later", wa_id="919876543210")).status_code == 200
    db.session.remove()
    _wait_until(lambda: _unprocessed_webhooks() == 0, 15, "the worker to process a later webhook", worker)
