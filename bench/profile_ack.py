"""Where a WhatsApp webhook's ack spends its time: the real app in-process, signed status webhooks, profiled.

    .venv/bin/python -m bench.profile_ack                 # cProfile, the 25 costliest functions by own time
    PYTHONPATH=/path/to/pyinstrument .venv/bin/python -m bench.profile_ack --pyinstrument   # a call tree

Runs against the bench database (BENCH_DATABASE, default chatout_bench; made by `make bench` or the smoke
run) with the bench configuration, through Flask's test client: the HTTP server and the load tool are not
in the figures, everything from the WSGI call on is. pyinstrument is not a dependency: install it anywhere
on PYTHONPATH for the tree; cProfile needs nothing.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import time

from bench.profiles import full_profile
from bench.stack import APP_SECRET, app_environment
from checkout.whatsapp.webhooks import sign


def status_body(number: int, tag: str) -> bytes:
    status = {"id": f"wamid.PROFILE{tag}N{number}", "status": "delivered", "timestamp": str(int(time.time())),
              "recipient_id": f"9198{number:08d}"}  # fmt: skip
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "919876543210",
             "phone_number_id": "106540352242922"}, "statuses": [status]}  # fmt: skip
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args(argv)
    os.environ.update(app_environment(full_profile()))
    from checkout import create_app

    app = create_app()
    client = app.test_client()
    tag = str(int(time.time()))
    bodies = [status_body(n, tag) for n in range(args.requests + 50)]
    headers = [{"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"} for body in bodies]

    def post(index: int) -> None:
        answer = client.post("/webhooks/whatsapp", data=bodies[index], headers=headers[index])
        if answer.status_code != 200:
            raise SystemExit(f"the webhook answered {answer.status_code}: {answer.get_data(as_text=True)[:200]}")

    for index in range(50):  # warm: imports, the pool's connections, Redis
        post(index)
    began = time.perf_counter()
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for index in range(50, len(bodies)):
            post(index)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    else:
        profiler = cProfile.Profile()
        profiler.enable()
        for index in range(50, len(bodies)):
            post(index)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    elapsed = time.perf_counter() - began
    print(f"{args.requests} acks in {elapsed:.2f} s under the profiler: {elapsed / args.requests * 1000:.2f} ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
