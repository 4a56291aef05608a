"""Driving wrk: run one of the Lua scripts in bench/wrk/ and read back what every virtual client measured.

Every run uses one connection per wrk thread (`-t N -c N`): N virtual clients, each sending its next
request when the previous answer arrived (a closed loop), which is what "N concurrent clients" means
here. Latencies are measured in the scripts with CLOCK_MONOTONIC, per label, so a multi-step flow
(checkout: POST then the handoff page) reports each step and the whole.
"""

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "wrk"
REQUEST_TIMEOUT = "30s"  # wrk's default (2 s) would count slow answers under load as errors


class LoadToolMissing(RuntimeError):
    pass


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadToolMissing("wrk is not installed: apt-get install -y wrk")
    return path


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ClientResult:
    id: int
    samples: dict[str, list[int]]  # label -> latencies in µs
    counts: dict[str, int]  # "label status" -> answers
    first_us: int
    last_us: int
    finished: bool
    problems: list[str]


@dataclass
class LoadResult:
    duration_s: float
    socket_errors: dict[str, int]
    clients: list[ClientResult] = field(default_factory=list)

    def latencies_ms(self, label: str) -> list[float]:
        return [us / 1000 for client in self.clients for us in client.samples.get(label, [])]

    def completed(self, label: str) -> int:
        return sum(len(client.samples.get(label, [])) for client in self.clients)

    def status_counts(self, label: str) -> dict[int, int]:
        totals: dict[int, int] = {}
        for client in self.clients:
            for key, count in client.counts.items():
                name, _, status = key.rpartition(" ")
                if name == label:
                    totals[int(status)] = totals.get(int(status), 0) + count
        return totals

    def answered(self, label: str, status: int) -> int:
        return self.status_counts(label).get(status, 0)

    def throughput(self, label: str) -> float:
        """Completed operations per second: each client's count over the time it was running, summed."""
        total = 0.0
        for client in self.clients:
            count = len(client.samples.get(label, []))
            elapsed = (client.last_us - client.first_us) / 1e6
            if count and elapsed > 0:
                total += count / elapsed
        return total

    def p(self, label: str, share: float) -> float:
        return percentile(self.latencies_ms(label), share)

    @property
    def problems(self) -> list[str]:
        return [problem for client in self.clients for problem in client.problems]

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.get(kind, 0) for kind in ("connect", "read", "write", "timeout"))

    @property
    def clients_finished(self) -> int:
        return sum(client.finished for client in self.clients)


def _read_client(path: Path) -> ClientResult:
    """One client's log (see bench/wrk/common.lua): its timed answers, problems, and whether it finished."""
    client = ClientResult(int(path.stem.split("-")[1]), {}, {}, 0, 0, False, [])
    first, last = None, 0
    for line in path.read_text(errors="replace").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "S":
            label, status, latency, sent, answered = rest.split("\t")
            client.samples.setdefault(label, []).append(int(latency))
            key = f"{label} {status}"
            client.counts[key] = client.counts.get(key, 0) + 1
            first = int(sent) if first is None else min(first, int(sent))
            last = max(last, int(answered))
        elif kind == "P":
            client.problems.append(rest)
        elif kind == "F":
            client.finished = True
    client.first_us, client.last_us = first or 0, last
    return client


def _read_result(work: Path) -> LoadResult:
    summary = json.loads((work / "result.json").read_text())
    clients = [_read_client(path) for path in sorted(work.glob("client-*.log"))]
    return LoadResult(summary["duration_us"] / 1e6, dict(summary.get("errors") or {}), clients)


def run_wrk(
    script: str,
    base_url: str,
    *,
    clients: int,
    duration: float,
    env: dict[str, str] | None = None,
    until_all_finish: bool = False,
    log_dir: Path | None = None,
) -> LoadResult:
    """Run bench/wrk/<script>.lua against base_url for `duration` seconds with `clients` clients.

    With until_all_finish, `duration` is only a ceiling: the run ends as soon as every client has
    called finish() (a burst, a fixed set of carts), which wrk itself would not notice.
    """
    work = Path(tempfile.mkdtemp(prefix=f"wrk-{script}-", dir=log_dir))
    result_path = work / "result.json"
    full_env = {
        **os.environ,
        **(env or {}),
        "BENCH_LUA_DIR": str(LUA_DIR),
        "BENCH_RESULT": str(result_path),
        "BENCH_RESULTS_DIR": str(work),
        "BENCH_CLIENTS": str(clients),
    }
    seconds = max(1, math.ceil(duration))
    command = [
        wrk_path(),
        "-t",
        str(clients),
        "-c",
        str(clients),
        "-d",
        f"{seconds}s",
        "--timeout",
        REQUEST_TIMEOUT,
        "-s",
        str(LUA_DIR / f"{script}.lua"),
        base_url,
    ]
    with open(work / "wrk.log", "wb") as log:
        process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if until_all_finish:
                deadline = time.monotonic() + seconds + 5
                while process.poll() is None and time.monotonic() < deadline:
                    if len(list(work.glob("thread-*.done"))) >= clients:
                        process.send_signal(signal.SIGINT)  # wrk then stops its threads and runs done()
                        break
                    time.sleep(0.05)
            process.wait(timeout=seconds + 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if not result_path.exists():
        output = (work / "wrk.log").read_text(errors="replace")
        raise RuntimeError(f"wrk {script} wrote no result (exit {process.returncode}):\n{output[-2000:]}")
    return _read_result(work)


@dataclass
class Series:
    """The same measurement repeated in rounds, alternated with its reference so both see the same machine.

    Throughput is the mean over the rounds in which the label completed anything, each round weighted
    by how long it ran; latency percentiles are over every sample of every round.
    """

    rounds: list[LoadResult] = field(default_factory=list)

    def add(self, result: LoadResult) -> None:
        self.rounds.append(result)

    def throughput(self, label: str) -> float:
        active = [r for r in self.rounds if r.completed(label)]
        weight = sum(r.duration_s for r in active)
        return sum(r.throughput(label) * r.duration_s for r in active) / weight if weight else 0.0

    def latencies_ms(self, label: str) -> list[float]:
        return [value for r in self.rounds for value in r.latencies_ms(label)]

    def p(self, label: str, share: float) -> float:
        return percentile(self.latencies_ms(label), share)

    def completed(self, label: str) -> int:
        return sum(r.completed(label) for r in self.rounds)

    def status_counts(self, label: str) -> dict[int, int]:
        totals: dict[int, int] = {}
        for r in self.rounds:
            for status, count in r.status_counts(label).items():
                totals[status] = totals.get(status, 0) + count
        return totals

    def answered(self, label: str, status: int) -> int:
        return self.status_counts(label).get(status, 0)

    @property
    def problems(self) -> list[str]:
        return [problem for r in self.rounds for problem in r.problems]

    @property
    def socket_errors(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for r in self.rounds:
            for kind, count in r.socket_errors.items():
                totals[kind] = totals.get(kind, 0) + count
        return totals

    @property
    def socket_error_count(self) -> int:
        return sum(r.socket_error_count for r in self.rounds)

    @property
    def clients_finished(self) -> int:
        return max((r.clients_finished for r in self.rounds), default=0)
