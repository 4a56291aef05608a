"""Where processing a chat order tap spends its time: `webhooks.process_event` for interactive replies, in-process.

    .venv/bin/python -m bench.profile_chat                 # cProfile, the 30 costliest functions by own time
    .venv/bin/python -m bench.profile_chat --statements    # the SQL statements of one tap, in order

Runs against the smoke bench database (BENCH_DATABASE + "_smoke", made by `bench.run --smoke`) with the
bench configuration and the queue in memory (nothing is sent). Each conversation says "hi" (not measured),
then taps the first choice of the bot's interactive reply, as bench/new_paths.py's chat scenario does; the
taps' processing (the stored webhook → the outbox row committed) is what is profiled and counted.
"""

import argparse
import cProfile
import io
import os
import pstats
import time

from bench.new_paths import first_choice, inbound_body
from bench.profiles import smoke_profile
from bench.stack import ACCESS_TOKEN, PHONE_NUMBER_ID, app_environment


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--taps", type=int, default=4, help="taps per conversation")
    parser.add_argument("--statements", action="store_true", help="print the SQL statements of one tap")
    parser.add_argument("--no-profile", action="store_true", help="time the taps without the profiler")
    parser.add_argument(
        "--deliver",
        action="store_true",
        help="measure sending the replies (outbox.deliver to a fake Graph API) instead",
    )
    args = parser.parse_args(argv)
    from tests.fakes.graph_api import FakeGraphApi

    graph_api = FakeGraphApi(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID)
    graph_api.start()
    os.environ.update(app_environment(smoke_profile(), graph_url=graph_api.url))
    os.environ["CHATOUT_QUEUE"] = "memory"
    os.environ["WHATSAPP_PACING_SECONDS"] = "0.001"  # the pacing query runs, and never holds a reply back
    from sqlalchemy import event, select

    from checkout import create_app, outbox
    from checkout.extensions import db
    from checkout.models.messaging import Message, OutboxItem
    from checkout.whatsapp import webhooks

    app = create_app()
    tag = f"{int(time.time()) % 10000:04d}"
    statements: list[str] = []
    shown_statements: list[str] = []
    profiler = cProfile.Profile()
    timings: list[float] = []
    walls: list[float] = []
    counts: list[int] = []

    def one_turn(wa_id: str, message: dict, step: int, measured: bool) -> dict | None:
        event_id = webhooks.store(inbound_body(wa_id, message, step))
        db.session.commit()
        statements.clear()
        began, began_wall = time.process_time(), time.perf_counter()
        if measured and not args.no_profile and not args.deliver:
            profiler.enable()
        webhooks.process_event(event_id)
        if measured and not args.deliver:
            profiler.disable()
            timings.append(time.process_time() - began)
            walls.append(time.perf_counter() - began_wall)
            counts.append(len(statements))
            shown_statements[:] = statements
        item_ids = list(db.session.scalars(select(OutboxItem.id).where(OutboxItem.status == "pending")))
        db.session.rollback()
        for item_id in item_ids:
            statements.clear()
            began, began_wall = time.process_time(), time.perf_counter()
            if measured and not args.no_profile and args.deliver:
                profiler.enable()
            outbox.deliver(item_id)
            if measured and args.deliver:
                profiler.disable()
                timings.append(time.process_time() - began)
                walls.append(time.perf_counter() - began_wall)
                counts.append(len(statements))
                shown_statements[:] = statements
        reply = db.session.scalar(
            select(Message)
            .where(Message.direction == "out", Message.phone == "+" + wa_id, Message.kind == "interactive")
            .order_by(Message.id.desc())
            .limit(1)
        )
        payload = dict(reply.payload) if reply is not None else None
        db.session.rollback()
        return payload

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        shown = False
        for number in range(args.conversations):
            wa_id = f"9193{tag}{number:05d}"[-12:]
            reply = one_turn(wa_id, {"type": "text", "text": {"body": "hi"}}, 0, measured=False)
            for step in range(1, args.taps + 1):
                tap = first_choice(reply) if reply else None
                if tap is None:
                    print(f"conversation {number}: no choice to tap at step {step}")
                    break
                reply = one_turn(wa_id, tap, step, measured=number >= 5)  # the first few warm the caches
                if args.statements and not shown and number >= 5:
                    shown = True
                    print(f"-- the statements of one {'send' if args.deliver else 'tap'} ({len(shown_statements)}):")
                    for statement in shown_statements:
                        print("  ", " ".join(statement.split())[:220])
    if not (args.statements or args.no_profile):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(30)
        print(out.getvalue())
    timings.sort()
    print(
        f"{len(timings)} {'sends' if args.deliver else 'taps'}: CPU each mean {sum(timings) / len(timings) * 1000:.2f} ms, "
        f"median {timings[len(timings) // 2] * 1000:.2f} ms, wall mean {sum(walls) / len(walls) * 1000:.2f} ms"
        f"{'' if args.no_profile else ' (under the profiler)'}; "
        f"statements each mean {sum(counts) / len(counts):.1f}, min {min(counts)}, max {max(counts)}"
    )
    graph_api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
