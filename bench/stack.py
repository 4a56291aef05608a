"""The stack under test, started the way production runs it, on its own database and Redis database.

- gunicorn (WEB_CONCURRENCY or 2 × cores + 1 workers of 4 threads each, `--worker-class gthread`, --preload, as
  docs/deploy.md runs it) serving bench.app:app — the production
  app plus the two reference routes — configured only through the environment, like production;
- `profile.queue_workers` queue worker processes (two, as docs/deploy.md runs them beside the web server), each
  `flask --app wsgi worker --workers 4` on Redis at `nice 10`, each with its own log file;
- the fake WhatsApp Graph API from tests/fakes, in this process, recording when each message arrives.

Every process started here runs in its own session and is stopped by its own process group id.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
import requests

from bench.profiles import Profile
from bench.seed_orders import ensure_meta_table, seed_max_order_id

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SERVER = "postgresql://postgres@127.0.0.1:5432"

SECRET_KEY = "chatout-bench-secret-key-not-for-production"
APP_SECRET = "chatout-bench-app-secret"
VERIFY_TOKEN = "chatout-bench-verify-token"
ACCESS_TOKEN = "EAAG-bench-access-token"
PHONE_NUMBER_ID = "106540352242922"
STRIPE_WEBHOOK_SECRET = "whsec_chatout_bench"
STAFF_EMAIL = "bench-owner@bench.example"
STAFF_PASSWORD = "bench-owner-password-1"
STOCK_PER_VARIANT = 1_000_000
QUEUE_WORKER_THREADS = 4

# Tables only benchmark runs write to (seeded orders aside): emptied before every run.
RUN_TABLES = (
    "outbox",
    "return_photos",  # its photos point at media_files
    "return_requests",
    "delivery_follow_ups",  # points at messages
    "media_files",
    "conversation_notes",
    "conversations",
    "messages",
    "message_status_updates",
    "webhook_events",
    "payment_events",  # a run's leftovers would be retried by the sweep against the next run's orders
    "carrier_events",
    "contacts",
    "cart_lines",
    "carts",
    "idempotency_records",
    "bench_floor",
)


def database_url(profile: Profile) -> str:
    return f"{SERVER}/{profile.database}"


def connect(profile: Profile) -> psycopg.Connection:
    return psycopg.connect(database_url(profile), autocommit=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_environment(profile: Profile, *, web_port: int = 0, graph_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    """The production configuration (checkout/config.py reads only these), pointed at the bench services."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WHATSAPP_", "CHATOUT_", "QUEUE_", "FLASK_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL", "UPLOAD_FOLDER"}
    }
    return {
        **inherited,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url(profile),
        "REDIS_URL": profile.redis_url,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}" if web_port else "",
        "SESSION_COOKIE_SECURE": "false",
        "ORDER_RATE_LIMIT_PER_ADDRESS": "100000 per minute",  # every simulated shopper comes from 127.0.0.1
        "WHATSAPP_PROVIDER": "cloud",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_GRAPH_URL": graph_url,
        "WHATSAPP_API_VERSION": "v26.0",
        "WHATSAPP_TEMPLATE_LANGUAGE": "en",
        "WHATSAPP_SEND_TIMEOUT": "5",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    }


def flask_command(profile: Profile, *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=app_environment(profile),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ---------------------------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------------------------


def create_database(profile: Profile, *, fresh: bool) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{profile.database}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (profile.database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{profile.database}"')


def prepare_database(profile: Profile, *, fresh: bool) -> None:
    """Schema (the app's migrations), the demo catalog, a staff owner to sign in as, the bench tables."""
    create_database(profile, fresh=fresh)
    flask_command(profile, "init-db")
    flask_command(profile, "seed-demo", "--if-empty")
    with connect(profile) as conn:
        ensure_meta_table(conn)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
        has_staff = conn.execute("SELECT 1 FROM staff_users WHERE email = %s", (STAFF_EMAIL,)).fetchone()
    if not has_staff:
        flask_command(
            profile,
            "create-user",
            "--email",
            STAFF_EMAIL,
            "--name",
            "Bench Owner",
            "--role",
            "owner",
            "--password",
            STAFF_PASSWORD,
        )


def _tables_referencing_orders(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = 'orders'::regclass"
    ).fetchall()


def reset_run_state(profile: Profile) -> None:
    """Back to the seeded history: no orders, messages or events from earlier runs, plenty of stock, empty queue."""
    with connect(profile) as conn:
        existing = {
            row[0]
            for row in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        }
        conn.execute(f"TRUNCATE {', '.join(t for t in RUN_TABLES if t in existing)}")
        boundary = seed_max_order_id(conn)
        for table, column in _tables_referencing_orders(conn):
            conn.execute(f'DELETE FROM {table} WHERE "{column}" > %s', (boundary,))
        conn.execute("DELETE FROM orders WHERE id > %s", (boundary,))
        conn.execute("UPDATE variants SET stock_on_hand = %s", (STOCK_PER_VARIANT,))
    redis.Redis.from_url(profile.redis_url).flushdb()


# ---------------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------------


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


class Process:
    """A child process in its own session, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        group = os.getpgid(self.popen.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.popen.wait(timeout=10)


class Stack:
    """gunicorn + queue workers + fake Graph API; use as a context manager."""

    def __init__(self, profile: Profile, run_dir: Path):
        from checkout.whatsapp.templates import TEMPLATES
        from tests.fakes.graph_api import ApprovedTemplate, FakeGraphApi

        self.profile, self.run_dir = profile, run_dir
        templates = [ApprovedTemplate(t.name, t.body, len(t.quick_replies), ("en",)) for t in TEMPLATES.values()]
        self.graph_api = FakeGraphApi(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID, templates=templates)
        self.port = free_port()
        self.web: Process | None = None
        self.workers: list[Process] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.graph_api.start()
        env = app_environment(self.profile, web_port=self.port, graph_url=self.graph_api.url)
        self.web = Process(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "--preload",  # as docs/deploy.md runs it: the app loaded once, before the workers fork
                "--workers",
                str(self.profile.web_workers),
                # As docs/deploy.md runs it. Sync workers block on an opened connection that has sent nothing
                # yet; a gthread worker gives such a connection a thread for up to 5 s before it parks it.
                # wrk reconnects at once when the server closes an idle connection, then holds the new one
                # silent until its client's next turn: at a fixed rate, with gunicorn's 2 s keep-alive, the
                # hand-off pages queued behind those waits (p95 about 1 s). With --keep-alive 75, as
                # production behind nginx runs, a paced client's connection stays open between its turns.
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--keep-alive",
                "75",
                "--bind",
                f"127.0.0.1:{self.port}",
                "bench.app:app",
            ],
            env,
            self.run_dir / "gunicorn.log",
        )
        command = ["nice", "-n", "10", str(VENV_BIN / "flask"), "--app", "wsgi", "worker"]
        self.workers = [
            Process(
                f"queue worker {number}",
                [*command, "--workers", str(QUEUE_WORKER_THREADS)],
                env,
                self.run_dir / f"worker-{number}.log",
            )
            for number in range(1, self.profile.queue_workers + 1)
        ]
        self.web.start()
        for worker in self.workers:
            worker.start()
        self._wait_for_web()
        for worker in self.workers:
            self._wait_for_worker(worker)

    def _wait_for_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.web.alive():
                raise RuntimeError(f"gunicorn exited:\n{self.web.output()[-3000:]}")
            try:
                answered = requests.get(self.base_url + "/bench/static/16", timeout=2).status_code == 200
            except requests.RequestException:
                answered = False
            if answered and len(self.web_worker_pids()) >= self.profile.web_workers:
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.web.output()[-3000:]}")

    @staticmethod
    def _wait_for_worker(worker: Process, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "Chatout worker:" not in worker.output():
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{worker.name} did not start:\n{worker.output()[-3000:]}")
            time.sleep(0.1)

    def web_worker_pids(self) -> list[int]:
        return _children(self.web.pid) if self.web and self.web.alive() else []

    def pause_workers(self, paused: bool) -> None:
        """SIGSTOP / SIGCONT every queue worker's process group: their processing waits, nothing is lost."""
        for worker in self.workers:
            os.killpg(os.getpgid(worker.pid), signal.SIGSTOP if paused else signal.SIGCONT)

    def peak_rss(self) -> dict[str, list[float]]:
        """Peak resident memory (MB) of every gunicorn worker and of every queue worker process."""
        return {
            "web": [_peak_rss_mb(pid) for pid in self.web_worker_pids()],
            "worker": [_peak_rss_mb(worker.pid) for worker in self.workers if worker.alive()],
        }

    def check_alive(self) -> list[str]:
        return [f"{p.name} died (see {p.log_path})" for p in (self.web, *self.workers) if p and not p.alive()]

    def stop(self) -> None:
        for process in (*self.workers, self.web):
            if process is not None:
                with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
                    process.stop()
        self.graph_api.stop()


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
