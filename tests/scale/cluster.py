"""Real processes for the scale tests: gunicorn web instances and `flask worker` queue workers.

Each process runs in its own process group with its output in a log file, and is configured only
through its environment, exactly like a separate host. A `Cluster` starts them side by side, waits
(bounded) until each is ready, and stops every one it started.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable  # the test's own virtualenv, where gunicorn and flask are installed
STARTUP_SECONDS = 30
STOP_SECONDS = 5
# The test process's own settings (tests/conftest.py sets CHATOUT_QUEUE=memory) must not leak into the
# instances: each is given its configuration explicitly.
NOT_INHERITED = (
    "CHATOUT_QUEUE",
    "QUEUE_SQLITE_PATH",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "SESSION_COOKIE_SECURE",
    "UPLOAD_FOLDER",
)
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


class StartupFailed(RuntimeError):
    pass


def instance_environment(settings: dict) -> dict:
    """The inherited environment (PATH, locale…) without Chatout's settings, plus `settings`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in NOT_INHERITED and not name.startswith("WHATSAPP_")
    }
    env.update({name: str(value) for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ManagedProcess:
    """One child process in its own process group, its stdout and stderr in `log_path`."""

    def __init__(self, name: str, command: list[str], env: dict, log_path: Path):
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, chars: int = 2500) -> str:
        return f"--- {self.name} ({self.log_path}) ---\n{self.output()[-chars:]}"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        raise NotImplementedError

    def signal(self, number: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):  # it exited a moment ago
                os.killpg(self.process.pid, number)

    def wait_stopped(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)  # it ignored SIGTERM: do not leave it running after the test
            self.process.wait(timeout=STOP_SECONDS)


class WebInstance(ManagedProcess):
    """`gunicorn wsgi:app` with two worker processes of four threads on a free loopback port."""

    def __init__(self, name: str, env: dict, log_path: Path):
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "--workers=2",
            "--worker-class=gthread",
            "--threads=4",
            "--bind=127.0.0.1:0",  # the kernel picks a free port; the log says which
            "--graceful-timeout=2",
            "--no-control-socket",  # two instances on one host would share the default socket path
            "wsgi:app",
        ]
        super().__init__(name, command, env, log_path)
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        if self.port is None:
            found = LISTENING.search(self.output())
            if found is None:
                return False
            self.port = int(found.group(1))
        try:
            return requests.get(self.url + "/", timeout=2).status_code == 200
        except requests.RequestException:
            return False


class QueueWorker(ManagedProcess):
    """`flask --app wsgi worker --workers 2`: Huey on Redis, with the periodic sweep."""

    def __init__(self, name: str, env: dict, log_path: Path):
        super().__init__(name, [PYTHON, "-m", "flask", "--app", "wsgi", "worker", "--workers", "2"], env, log_path)

    def is_ready(self) -> bool:
        return "Chatout worker:" in self.output()


class Cluster:
    """Web instances and queue workers sharing one environment (one DATABASE_URL, one REDIS_URL)."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.web: list[WebInstance] = []
        self.workers: list[QueueWorker] = []

    @property
    def processes(self) -> list[ManagedProcess]:
        return [*self.web, *self.workers]

    def start(self, web: int = 2, workers: int = 2) -> "Cluster":
        """Start everything at once, then wait until each process is ready (or raise with the logs)."""
        for letter in "ABCDEFGH"[:web]:
            self.web.append(WebInstance(f"web-{letter}", self.env, self.log_dir / f"web-{letter}.log"))
        for number in range(1, workers + 1):
            self.workers.append(QueueWorker(f"worker-{number}", self.env, self.log_dir / f"worker-{number}.log"))
        for process in self.processes:
            process.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        waiting = list(self.processes)
        while waiting:
            waiting = [process for process in waiting if not process.is_ready()]
            dead = [process for process in waiting if not process.running()]
            if dead or (waiting and time.monotonic() > deadline):
                names = ", ".join(p.name for p in dead or waiting)
                raise StartupFailed(f"{names} did not start within {STARTUP_SECONDS} s\n{self.logs()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM every process group, then wait (bounded); SIGKILL whatever is still there."""
        for process in self.processes:
            process.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.wait_stopped(deadline)

    def logs(self) -> str:
        return "\n".join(process.tail() for process in self.processes)
