"""What a web worker loads (issue 18's memory budget) and that the `flask db` commands still load what they need.

Each check runs in a fresh interpreter, as gunicorn and the `flask` command start one: in this test process
other tests have long since imported everything.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WHATSAPP_"))}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "SECRET_KEY": "process-imports-test"}


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = _environment(tmp_path) | env
    return subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_the_web_app_loads_the_receipt_renderer_but_not_the_migration_tools(tmp_path):
    probe = "import json, sys, wsgi; print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))"
    answer = _run([sys.executable, "-c", probe], tmp_path)
    assert answer.returncode == 0, answer.stderr
    loaded = set(json.loads(answer.stdout.splitlines()[-1]))
    assert {"flask", "checkout", "storefront", "admin"} <= loaded
    assert "fpdf" in loaded  # receipts download from the status page: the renderer is part of the worker
    assert not loaded & {"flask_migrate", "alembic", "mako"}  # about 8 MB a worker never uses


def test_loading_the_app_opens_no_connection_and_starts_no_thread(tmp_path):
    """What makes `gunicorn --preload` safe: nothing made before the fork is shared by the workers after it.

    The addresses point where nothing listens: a connection tried while loading would fail the import.
    """
    probe = (
        "import json, os, threading, wsgi; "
        "paths = [f'/proc/self/fd/{fd}' for fd in os.listdir('/proc/self/fd')]; "
        "links = [os.readlink(path) for path in paths if os.path.lexists(path)]; "  # listdir's own fd is gone
        "print(json.dumps([threading.active_count(), [link for link in links if link.startswith('socket:')]]))"
    )
    answer = _run(
        [sys.executable, "-c", probe],
        tmp_path,
        DATABASE_URL="postgresql+psycopg://chatout@127.0.0.1:9/chatout",
        REDIS_URL="redis://127.0.0.1:9/0",
    )
    assert answer.returncode == 0, answer.stderr
    threads, sockets = json.loads(answer.stdout.splitlines()[-1])
    assert threads == 1
    assert sockets == []


def test_flask_db_commands_still_migrate(tmp_path):
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    listed = _run([*flask, "db", "--help"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "upgrade" in listed.stdout and "--directory" in listed.stdout

    upgraded = _run([*flask, "db", "upgrade"], tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    heads = _run([*flask, "db", "heads"], tmp_path).stdout.split()[0]
    current = _run([*flask, "db", "current"], tmp_path)
    assert current.stdout.split() == [heads, "(head)"]

    # `init-db` (make run, the deploy guide) is the same upgrade: nothing left to do.
    again = _run([*flask, "init-db"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Database is up to date." in again.stdout
    # The models and the migrations agree (env.py reads the app's include_object through Flask-Migrate).
    checked = _run([*flask, "db", "check"], tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
