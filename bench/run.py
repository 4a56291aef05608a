"""`make bench` / `make bench-smoke`: start the real stack, run every scenario, print the table.

    .venv/bin/python -m bench.run            # the full run: 1,000,000 orders, 32 clients; writes docs/performance.md
    .venv/bin/python -m bench.run --smoke    # every scenario for a moment at tiny scale (CI): fails only on errors
    .venv/bin/python -m bench.run --only checkout,pages   # some scenarios (after a fix, say); docs untouched

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), Redis on 127.0.0.1:6379 and wrk.
Exit status: 1 if anything went wrong (an error, not a missed target), else 0.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import new_paths, scenarios
from bench.load import LoadToolMissing, wrk_path
from bench.profiles import Profile, full_profile, smoke_profile
from bench.report import Report, describe_machine, print_report, write_docs
from bench.seed_orders import seed, seeded_order_count
from bench.stack import ROOT, VENV_BIN, Stack, app_environment, connect, prepare_database, reset_run_state, say

# Scenario groups in the order a full run takes them; `--only` picks some (warm-up always runs first).
SCENARIOS = {
    "floor": (scenarios.measure_floor,),
    "pages": (scenarios.measure_pages,),
    "webhooks": (scenarios.measure_webhook_ack, scenarios.drain),
    "webhook_apart": (new_paths.measure_webhook_apart,),
    "checkout": (scenarios.measure_checkout, scenarios.measure_checkout_cost),
    "burst": (scenarios.measure_webhook_burst,),
    "payments": (new_paths.measure_payment_burst, scenarios.drain),
    "couriers": (new_paths.measure_courier_burst,),
    "carts": (new_paths.measure_carts,),
    "coupons": (new_paths.measure_coupon_race, scenarios.drain),
    "chat": (new_paths.measure_chat_order,),
    "notifications": (scenarios.measure_notifications, scenarios.check_deliveries),
    "desk": (scenarios.measure_order_desk,),
    "inbox": (new_paths.measure_inbox,),
    "memory": (scenarios.measure_memory,),
}


def steps_for(names: list[str]) -> list:
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s) {sorted(unknown)}; choose from {list(SCENARIOS)}")
    chosen = [step for name, steps in SCENARIOS.items() if not names or name in names for step in steps]
    return [scenarios.warm_up, *chosen, scenarios.note_floors]


RERUN = """```sh
make bench          # everything (the 1,000,000-order history is seeded once, in a few minutes, then reused)
make bench-smoke    # every scenario for a moment at tiny scale; what CI runs
WEB_CONCURRENCY=9 make bench                                   # other gunicorn worker counts
BENCH_QUEUE_WORKERS=1 make bench                               # other queue worker process counts (default 2)
.venv/bin/python -m bench.run --only checkout,pages            # some scenarios after a fix (docs untouched)
.venv/bin/python -m bench.seed_orders --database-url postgresql://postgres@127.0.0.1:5432/chatout_bench
.venv/bin/python -m bench.memory --gunicorn --worker           # memory: a worker's peak and where it goes
```

Needs PostgreSQL 15 on 127.0.0.1:5432 (user `postgres`, trust auth), Redis on 127.0.0.1:6379 and `wrk`
(`apt-get install -y wrk`). The run uses its own database `chatout_bench` and Redis database 9 (smoke:
`chatout_bench_smoke`, recreated each time, and Redis database 10; `BENCH_DATABASE` and `BENCH_REDIS_DB`
choose others); logs of gunicorn, each queue worker and
every wrk run go to a `chatout-bench-*` folder in the temporary directory (printed at the start)."""

METHOD = """- **Stack**: gunicorn as docs/deploy.md runs it (`WEB_CONCURRENCY` workers, default 2 × cores + 1, of 4 threads each,
  `--worker-class gthread`, `--keep-alive 75`, `--preload`) serving `bench.app:app`,
  which is `create_app()` plus two reference routes that exist only there; two queue worker processes
  (`BENCH_QUEUE_WORKERS`; `flask --app wsgi worker --workers 4` each) on Redis, at `nice 10` as `docs/deploy.md` runs them; the fake WhatsApp Graph API from `tests/fakes/graph_api.py`
  in the harness process. Configuration only through the environment, as in production
  (`WHATSAPP_PROVIDER=cloud`, `REDIS_URL`, `DATABASE_URL`, …).
- **Load**: wrk with Lua scripts (`bench/wrk/`), one connection per wrk thread: 32 clients in a closed
  loop, latencies timed per step with CLOCK_MONOTONIC. Throughput = completed operations per second. Each
  ratio's two sides run in alternating rounds (3 × 4 s each), so both see the same machine; the machine
  these figures come from is shared with other work (see the load average), which moves absolute numbers
  by ±30 % between runs. In a closed loop every latency is about 32 / throughput (Little's law), so at
  saturation a p95 ratio mirrors the throughput ratio.
- **Floor**: `GET /bench/floor` runs one `INSERT` + `COMMIT` through the app's session and answers `ok`.
  **Static page**: `GET /bench/static/<bytes>` answers a pre-rendered page of exactly the catalog's
  (product page's) size through the same Flask stack.
- **Checkout**: carts are prepared first as shoppers do (product page, `POST /cart/add`, checkout page:
  session cookie, CSRF token, checkout key), for 2.5 × the measured time; the measured operation is
  `POST /checkout` (pending order, stock reservation, outbox row; 303) followed by `GET` of the handoff
  page it redirects to (the POST alone is listed under the table). Carts pick variants at random; every
  variant holds 1,000,000 units, reset before each run, as are all orders, messages and webhooks of
  earlier runs (the seeded history stays). Throughput is measured in the closed loop; p95 at a **fixed
  arrival rate** of half that throughput (open loop: each client starts a checkout every clients / rate
  seconds, staggered, and a checkout's latency counts from when it was due, so a late start is counted as
  waiting), with the floor driven at the same rate in alternating rounds. Half the *floor's* throughput
  would be more checkouts than the checkout can serve: the queue, and so p95, would grow with the run.
  A paced client opens its connection with one untimed request and keeps it open between turns, as nginx
  does in front of gunicorn (a silent new connection holds a gthread worker's thread for up to 5 s).
- **Webhooks**: `delivered` status events with unique wamids, signed with `X-Hub-Signature-256`
  (HMAC-SHA256 in the Lua script through OpenSSL). "None lost": acknowledged = stored rows = sent.
- **Notifications**: after the queue is drained, a signed-in owner confirms pending orders one at a
  time (`POST /admin/orders/<ref>/status`); latency = POST sent → the fake Graph API accepted the
  `status:<event>` message (its own receive timestamp, same clock).
- **Order desk**: `GET /admin/orders` with each filter, one staff member, sequential requests, on the
  seeded history (two years, realistic statuses, names, phones, 1–4 lines and the timeline per order).
- **Webhook ack, processing apart**: the same signed events with the queue workers stopped (SIGSTOP) during
  the ack rounds, as if processing ran on other cores; then the workers catch up. Sustained = events
  stored / (ack seconds + seconds the worker needed after them), all on the same two cores.
- **Payment and courier bursts** (`bench/new_paths.py`): signed in Python (Stripe's `Stripe-Signature`, in
  chunks of 2,000 so none is older than Stripe's five minutes; a generic courier's HMAC and Shiprocket's
  token) and replayed by wrk (`bench/wrk/replay.lua`); one event in ten is sent again later by another
  client. Payments go to fresh copies of seeded orders (removed with the run's orders); courier events are
  "in transit" scans of seeded shipped orders. Checked in the database: every event stored once, processed,
  and applied once (one payment per order, the balance settled; the scan linked to its order).
- **Coupon race**: 2 × clients shoppers with a cart each post the checkout with one code at the same moment
  (a barrier); the code allows a quarter of them. Checked: redemptions ≤ the limit, orders carrying the
  code = redemptions.
- **Cart add/update**: each client opens a product page once, then alternates `POST /cart/add` and
  `POST /cart/update` as htmx sends them; each rate is its operations over the time they took.
- **Chat order**: conversations start at 20 a second (open loop: a new one starts on time however slow the
  server is); each says "hi", then taps the first button or list row of every interactive message it gets,
  6.5 s after it arrives (the outbox paces messages to one customer 6 s apart, as Meta's pair rate limit
  requires; tapping sooner would time the pacing). Latency = the signed webhook POST → the fake Graph API
  accepted the next message (webhook, a queue worker, chat flow, outbox).
- **Inbox**: `bench/inbox.py` on `<database>_inbox` with 100,000 conversations, in-process.
- **Memory**: `VmHWM` (peak resident set) of each gunicorn worker and of each queue worker at the end.
- **CPU per request** without the load: `.venv/bin/python -m bench.cpu_budget` (in-process, test client), a
  quick and steady check of a fix before a full run."""


def postgres_version(profile: Profile) -> str:
    with connect(profile) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]


def ensure_history(profile: Profile) -> None:
    with connect(profile) as conn:
        have = seeded_order_count(conn)
    if have >= profile.seeded_orders:
        say(f"   {have:,} seeded orders already in {profile.database}; reusing them")
        return
    say(f"   seeding {profile.seeded_orders - have:,} orders into {profile.database} with COPY…")
    seed(f"postgresql://postgres@127.0.0.1:5432/{profile.database}", profile.seeded_orders - have, quiet=False)


def wait_for_quiet_machine(patience: float) -> None:
    """Other work on the machine skews every figure: give it a few minutes to settle before starting."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] > 0.75 * cores and time.monotonic() < deadline:
        say(f"   the machine is busy (load {os.getloadavg()[0]:.1f} on {cores} cores); waiting for it to settle…")
        time.sleep(15)


def run_steps(bench: scenarios.Bench, steps: list, log_path: Path) -> None:
    for step in steps:
        name = step.__name__
        say(f"== {name}")
        began = time.monotonic()
        try:
            step(bench)
        except Exception as error:  # one broken scenario must not hide the others' figures
            bench.report.errors.append(f"{name}: {error.__class__.__name__}: {error}")
            with open(log_path, "a") as log:
                log.write(f"--- {name}\n{traceback.format_exc()}\n")
        bench.report.errors.extend(bench.stack.check_alive())
        say(f"   {time.monotonic() - began:.1f} s")
        if bench.stack.check_alive():
            break


def explain_slow_pages(profile: Profile, urls: list[str]) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bench.explain", *urls],
        cwd=ROOT,
        env=app_environment(profile),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.stdout if result.returncode == 0 else f"bench.explain failed:\n```\n{result.stderr[-3000:]}\n```"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the real Chatout stack.")
    parser.add_argument("--smoke", action="store_true", help="a few seconds at tiny scale; fails only on errors")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--patience", type=float, default=None, help="seconds to wait for a quiet machine")
    parser.add_argument(
        "--only", default="", help=f"comma-separated scenarios to run (implies --no-docs): {', '.join(SCENARIOS)}"
    )
    args = parser.parse_args(argv)
    profile = smoke_profile() if args.smoke else full_profile()
    steps = steps_for([name for name in args.only.split(",") if name])
    try:
        wrk_path()
    except LoadToolMissing as missing:
        print(f"bench: {missing}", file=sys.stderr)
        return 2

    run_dir = Path(tempfile.mkdtemp(prefix=f"chatout-bench-{profile.name}-"))
    report = Report(profile.name)
    began = time.monotonic()
    say(f"Chatout bench ({profile.name}); logs in {run_dir}")
    say("== database")
    prepare_database(profile, fresh=args.smoke)
    reset_run_state(profile)
    ensure_history(profile)
    wait_for_quiet_machine(args.patience if args.patience is not None else (0 if args.smoke else 180))
    report.machine = describe_machine(postgres_version(profile))
    say(
        f"== starting gunicorn ({profile.web_workers} workers), {profile.queue_workers} queue worker(s) "
        "and the fake Graph API"
    )
    with Stack(profile, run_dir) as stack:
        bench = scenarios.Bench(profile, stack, report, run_dir)
        run_steps(bench, steps, run_dir / "errors.log")
    slow = bench.figures.get("slow_desk_urls") or []
    if slow and not args.smoke:
        say("== EXPLAIN ANALYZE of the order-desk queries that missed their target")
        report.details.append(explain_slow_pages(profile, slow))
        (run_dir / "explain.md").write_text(report.details[-1])
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    report.notes.append(f"whole run: {time.monotonic() - began:.0f} s, load average after it {load}; logs in {run_dir}")
    print_report(report)
    if not (args.smoke or args.no_docs or args.only):
        write_docs(report, RERUN, METHOD)
        say(f"wrote {os.path.relpath(Path(ROOT) / 'docs' / 'performance.md')}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
