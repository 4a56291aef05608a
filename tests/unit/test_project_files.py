"""The project as a newcomer meets it: `make run` (the admin address follows PORT, stopping ends cleanly), its license.

The real recipe runs with a stand-in `flask` (FLASK=…) and a stand-in virtualenv, so nothing is installed
and no server starts; what is tested is the Makefile's own shell.
"""

import os
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

STUB_FLASK = """#!/bin/sh
# A stand-in for `flask --app wsgi`: the worker waits to be stopped, `run` serves for a moment.
echo "flask $*"
case "$1" in
  worker) echo $$ > "{tmp}/worker.pid"; exec sleep 30 ;;
  run) sleep {serve} ;;
esac
"""


def _make_run(tmp_path: Path, serve: float, **variables: str) -> subprocess.Popen:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").touch()  # newer than requirements.txt: nothing to install
    stub = tmp_path / "flask"
    stub.write_text(STUB_FLASK.format(tmp=tmp_path, serve=serve))
    stub.chmod(0o755)
    args = ["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}", f"FLASK={stub}"]
    args += [f"{name}={value}" for name, value in variables.items()]
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _worker_stopped(tmp_path: Path) -> bool:
    pid = int((tmp_path / "worker.pid").read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_make_run_passes_host_and_port_to_the_printed_admin_address(tmp_path):
    done = _make_run(tmp_path, serve=0.5, PORT="8123")
    output = done.communicate(timeout=30)[0]
    assert "flask ensure-owner --base-url http://127.0.0.1:8123" in output
    assert "flask run --host 127.0.0.1 --port 8123" in output
    assert done.returncode == 0, output
    assert _worker_stopped(tmp_path), "the queue worker must stop with the server"


def test_ctrl_c_stops_the_server_and_the_worker_without_a_crash(tmp_path):
    running = _make_run(tmp_path, serve=30)
    for _ in range(100):
        if (tmp_path / "worker.pid").exists():
            break
        time.sleep(0.1)
    time.sleep(0.3)
    os.killpg(running.pid, signal.SIGINT)  # what Ctrl+C sends to the terminal's foreground group
    output = running.communicate(timeout=30)[0]
    assert "Segmentation fault" not in output and "Terminated" not in output, output
    assert _worker_stopped(tmp_path)


def test_chatout_is_licensed_under_apache_2():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert "## License" in (ROOT / "README.md").read_text()
