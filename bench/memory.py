"""Peak memory of a web worker and of the queue worker, and where it goes: `python -m bench.memory`.

Issue 18's memory row (web worker < 120 MB, queue worker < 150 MB, the PDF receipt renderer loaded) without a
whole `make bench`. In a fresh interpreter configured like production (bench.stack.app_environment), it loads
`bench.app:app` as a gunicorn worker does, counting the resident memory each imported package adds, then
serves a representative set of requests through Flask's test client: catalog, product, cart add, checkout,
hand-off page, status page, the staff sign-in, order desk and order page, a recorded payment, the receipt
PDF from the status page, a signed WhatsApp webhook. It prints the peak resident set (VmHWM, what `make
bench` reports per gunicorn worker) and the breakdown. With --worker it then runs the real queue worker
(`flask --app wsgi worker`) on the jobs those requests queued, beside the fake Graph API, and reports its peak.

The database is a benchmark database prepared by bench.stack (--prepare makes one); shared machines pass
their own with --database and --redis-url. Memory is per process, so a busy machine barely changes it.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_TARGET_MB = 120
WORKER_TARGET_MB = 150


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


# ---------------------------------------------------------------------------------------------------------------
# The measured process: `python -m bench.memory --serve`, started by main() with the app's environment
# ---------------------------------------------------------------------------------------------------------------

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _resident_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_KB


class ImportMeter:
    """Resident memory each module's own import adds (its imports inside it counted to them), per top package."""

    def __init__(self):
        self.own_kb: dict[str, int] = {}
        self._stack: list[list[int]] = []  # per module being imported: [resident at start, children's kB]

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        sys.meta_path.remove(self)

    def find_spec(self, name, path=None, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _MeteredLoader(spec.loader, self)
                return spec
        return None

    def run(self, name: str, execute) -> None:
        self._stack.append([_resident_kb(), 0])
        try:
            execute()
        finally:
            start, children = self._stack.pop()
            total = _resident_kb() - start
            top = name.partition(".")[0]
            self.own_kb[top] = self.own_kb.get(top, 0) + total - children
            if self._stack:
                self._stack[-1][1] += total


class _MeteredLoader:
    def __init__(self, loader, meter: ImportMeter):
        self._loader, self._meter = loader, meter

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._meter.run(module.__name__, lambda: self._loader.exec_module(module))


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*?value="([^"]*)"', html).group(1)


class HttpClient:
    """The few calls of Flask's test client the request set makes, over HTTP to a running gunicorn."""

    def __init__(self, base_url: str):
        import requests

        self.base_url, self.session = base_url, requests.Session()
        self.session.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"  # what browsers send

    def get(self, path: str, **kwargs):
        return _HttpResponse(self.session.get(self.base_url + path, allow_redirects=False, **kwargs), path)

    def post(self, path: str, **kwargs):
        return _HttpResponse(self.session.post(self.base_url + path, allow_redirects=False, **kwargs), path)


class _HttpResponse:
    def __init__(self, response, path: str):
        self.status_code, self.headers, self.data = response.status_code, response.headers, response.content
        self.path, self._text = path, response.text

    def get_data(self, as_text: bool = False):
        return self._text if as_text else self.data


def _expect(response, path: str, statuses: tuple[int, ...]):
    if response.status_code not in statuses:
        raise RuntimeError(f"{path}: {response.status_code}\n{response.get_data(as_text=True)[:500]}")
    return response


def serve_representative_requests(new_client, *, staff_email: str, staff_password: str, app_secret: str, rss=None):
    """Every kind of request a web worker serves, each at least once: (request, resident MB after it), in order.

    `new_client()` gives a client with its own cookies (a shopper, a staff member); `rss()` reads the serving
    process's resident memory, when it is this one.
    """
    from checkout.whatsapp.webhooks import sign

    served = []

    def get(client, path, *statuses, **kwargs):
        response = _expect(client.get(path, **kwargs), path, statuses or (200,))
        served.append((f"GET {path}", rss() if rss else 0.0))
        return response

    def post(client, path, *statuses, **kwargs):
        response = _expect(client.post(path, **kwargs), path, statuses or (200, 302, 303))
        served.append((f"POST {path}", rss() if rss else 0.0))
        return response

    shopper = new_client()
    catalog = get(shopper, "/").get_data(as_text=True)
    product_path = re.search(r'href="(/p/[^"?#]+)"', catalog).group(1)
    product = get(shopper, product_path).get_data(as_text=True)
    variant = re.search(r'name="variant_id" value="(\d+)"', product).group(1)
    post(shopper, "/cart/add", data={"variant_id": variant, "quantity": 1})
    get(shopper, "/cart")
    form = get(shopper, "/checkout").get_data(as_text=True)
    fields = {name: _hidden(form, name) for name in ("csrf_token", "checkout_key", "expected_subtotal")}
    phone = f"+9196{time.time_ns() // 1000 % 10**8:08d}"
    details = {"name": "Memory Shopper", "phone": phone, "fulfilment": "delivery"}
    details |= {"address": "1 MG Road, Pune 411001", "payment_method": "cod"}
    handoff = post(shopper, "/checkout", 302, 303, data=fields | details).headers["Location"]
    handoff = "/" + handoff.split("/", 3)[3] if handoff.startswith("http") else handoff
    token = re.search(r"/o/([^/]+)/whatsapp", handoff).group(1)
    reference = re.search(r'class="reference">([^<]+)<', get(shopper, handoff).get_data(as_text=True)).group(1)
    get(shopper, f"/o/{token}/qr.svg")
    get(shopper, f"/o/{token}")

    staff = new_client()
    login = get(staff, "/admin/login").get_data(as_text=True)
    credentials = {"csrf_token": _hidden(login, "csrf_token"), "email": staff_email, "password": staff_password}
    post(staff, "/admin/login", 302, 303, data=credentials)
    get(staff, "/admin/orders")
    page = get(staff, f"/admin/orders/{reference}").get_data(as_text=True)
    payment_form = page[page.index(f'action="/admin/orders/{reference}/payments"') :]
    payment = {"csrf_token": _hidden(payment_form, "csrf_token"), "version": _hidden(payment_form, "version")}
    payment |= {"method": "upi", "amount": "1", "reference": "MEM1"}
    post(staff, f"/admin/orders/{reference}/payments", data=payment)
    status = get(shopper, f"/o/{token}").get_data(as_text=True)
    receipt = re.search(rf'href="(/o/{re.escape(token)}/receipt/\d+\.pdf)"', status).group(1)
    if not get(shopper, receipt).data.startswith(b"%PDF"):
        raise RuntimeError("the receipt is not a PDF")

    change = {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "statuses": [{"id": f"wamid.MEM{time.time()}", "status": "delivered", "timestamp": "1700000000"}],
        },
    }
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}).encode()
    post(shopper, "/webhooks/whatsapp", data=body, headers={"X-Hub-Signature-256": sign(body, app_secret)})
    return served


def serve(rounds: int) -> None:
    """The measured process: load the app as gunicorn does, serve, print one JSON line."""
    meter = ImportMeter()
    started_mb = status_mb("VmRSS")
    meter.install()
    from bench.app import app  # gunicorn's `bench.app:app`: the production app and the two reference routes

    meter.uninstall()
    loaded_mb = status_mb("VmRSS")
    from bench.stack import APP_SECRET, STAFF_EMAIL, STAFF_PASSWORD

    served = [
        serve_representative_requests(
            app.test_client,
            staff_email=STAFF_EMAIL,
            staff_password=STAFF_PASSWORD,
            app_secret=APP_SECRET,
            rss=lambda: status_mb("VmRSS"),
        )
        for _ in range(rounds)
    ]
    result = {
        "started_mb": started_mb,
        "loaded_mb": loaded_mb,
        "rss_mb": status_mb("VmRSS"),
        "peak_mb": status_mb("VmHWM"),
        "imports_kb": meter.own_kb,
        "served": served,
        "modules": sorted(sys.modules),
    }
    print("MEMORY " + json.dumps(result))


# ---------------------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------------------


def measure_web(env: dict[str, str], rounds: int) -> dict:
    answer = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--serve", "--rounds", str(rounds)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    line = next((ln for ln in answer.stdout.splitlines() if ln.startswith("MEMORY ")), None)
    if answer.returncode != 0 or line is None:
        raise SystemExit(f"the measured process failed:\n{answer.stdout[-3000:]}\n{answer.stderr[-3000:]}")
    return json.loads(line.removeprefix("MEMORY "))


def measure_gunicorn(profile, rounds: int, *, preload: bool) -> dict:
    """The same requests over HTTP to one gunicorn sync worker serving bench.app:app, as `make bench` starts it."""
    import signal

    import requests

    from bench.stack import APP_SECRET, STAFF_EMAIL, STAFF_PASSWORD, VENV_BIN, _children, app_environment, free_port

    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "bench.app:app"]
    server = subprocess.Popen(
        command + (["--preload"] if preload else []),
        cwd=ROOT,
        env=app_environment(profile, web_port=port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base_url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            try:
                if requests.get(base_url + "/bench/static/16", timeout=2).ok and _children(server.pid):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        (worker,) = _children(server.pid)
        for _ in range(rounds):
            serve_representative_requests(
                lambda: HttpClient(base_url),
                staff_email=STAFF_EMAIL,
                staff_password=STAFF_PASSWORD,
                app_secret=APP_SECRET,
            )
        pss = re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{worker}/smaps_rollup").read_text(), re.MULTILINE)
        return {
            "peak_mb": status_mb("VmHWM", worker),
            "rss_mb": status_mb("VmRSS", worker),
            "anon_mb": status_mb("RssAnon", worker),  # the rest of the resident set: mapped files (libraries)
            "pss_mb": int(pss[1]) / 1024,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def measure_worker(profile, env: dict[str, str], seconds: float) -> float:
    """Peak memory of `flask --app wsgi worker` (as bench.stack starts it) after `seconds` of running the queue."""
    from bench.stack import ACCESS_TOKEN, PHONE_NUMBER_ID, VENV_BIN, app_environment
    from checkout.whatsapp.templates import TEMPLATES
    from tests.fakes.graph_api import ApprovedTemplate, FakeGraphApi

    templates = [ApprovedTemplate(t.name, t.body, len(t.quick_replies), ("en",)) for t in TEMPLATES.values()]
    graph = FakeGraphApi(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID, templates=templates)
    graph.start()
    worker_env = env | {k: v for k, v in app_environment(profile, graph_url=graph.url).items() if "GRAPH" in k}
    worker = subprocess.Popen(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "worker", "--workers", "4"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(seconds)
        if worker.poll() is not None:
            raise SystemExit("the queue worker exited")
        return status_mb("VmHWM", worker.pid)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=15)
        graph.stop()


def print_breakdown(imports_kb: dict[str, int], smallest_mb: float) -> None:
    ranked = sorted(imports_kb.items(), key=lambda item: -item[1])
    shown = [(name, kb) for name, kb in ranked if kb / 1024 >= smallest_mb]
    rest = sum(kb for name, kb in ranked if kb / 1024 < smallest_mb)
    print("Resident memory each package's own modules added while loading the app (MB):")
    for name, kb in shown:
        print(f"  {name:24s} {kb / 1024:6.1f}")
    print(f"  {'(everything else)':24s} {rest / 1024:6.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the measured process itself
    parser.add_argument("--rounds", type=int, default=3, help="times the request set is served (default 3)")
    parser.add_argument("--database", help="the benchmark database (default: the smoke run's)")
    parser.add_argument("--redis-url", help="a Redis database of its own")
    parser.add_argument("--prepare", action="store_true", help="create the database first (schema, demo catalog)")
    parser.add_argument(
        "--gunicorn", action="store_true", help="then serve them through gunicorn, without and with --preload"
    )
    parser.add_argument("--worker", action="store_true", help="then run the queue worker and report its peak")
    parser.add_argument("--worker-seconds", type=float, default=10.0)
    parser.add_argument("--smallest", type=float, default=0.5, help="leave out packages under this many MB")
    parser.add_argument("--modules", action="store_true", help="also list every module the web worker loaded")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.rounds)
        return

    from bench.profiles import smoke_profile
    from bench.stack import app_environment, prepare_database, reset_run_state

    profile = smoke_profile()
    profile = replace(
        profile, database=args.database or profile.database, redis_url=args.redis_url or profile.redis_url
    )
    if args.prepare:
        prepare_database(profile, fresh=False)
    reset_run_state(profile)  # stock back, earlier runs' orders gone: the same requests every time
    env = app_environment(profile, web_port=8000)
    web = measure_web(env, args.rounds)
    if args.modules:
        print("\n".join(web["modules"]))
    print_breakdown(web["imports_kb"], args.smallest)
    print(f"Interpreter started: {web['started_mb']:.1f} MB; app loaded: {web['loaded_mb']:.1f} MB")
    print("Resident after each request of the first round (MB):")
    before = web["loaded_mb"]
    for request, mb in web["served"][0]:
        print(f"  {mb:6.1f} {mb - before:+5.1f}  {request}")
        before = mb
    print(f"Served {len(web['served'][0])} requests × {args.rounds}: resident {web['rss_mb']:.1f} MB")
    verdict = "within" if web["peak_mb"] < WEB_TARGET_MB else "OVER"
    print(f"Web worker peak (VmHWM): {web['peak_mb']:.1f} MB, {verdict} the target of {WEB_TARGET_MB} MB")
    loaded = {name.partition(".")[0] for name in web["modules"]}
    print(
        f"Receipt renderer (fpdf) loaded: {'yes' if 'fpdf' in loaded else 'NO'}; alembic loaded: "
        f"{'yes' if 'alembic' in loaded else 'no'}"
    )
    if args.gunicorn:
        for preload in (False, True):
            reset_run_state(profile)
            served = measure_gunicorn(profile, args.rounds, preload=preload)
            verdict = "within" if served["peak_mb"] < WEB_TARGET_MB else "OVER"
            print(
                f"gunicorn worker{' (--preload)' if preload else ''}: peak {served['peak_mb']:.1f} MB ({verdict}), "
                f"resident {served['rss_mb']:.1f} MB (anonymous {served['anon_mb']:.1f}), "
                f"proportional (Pss) {served['pss_mb']:.1f} MB"
            )
    if args.worker:
        peak = measure_worker(profile, env, args.worker_seconds)
        verdict = "within" if peak < WORKER_TARGET_MB else "OVER"
        print(f"Queue worker peak (VmHWM): {peak:.1f} MB, {verdict} the target of {WORKER_TARGET_MB} MB")


if __name__ == "__main__":
    main()
