"""Run the same call from several threads released together, each in its own app context and session: the
shape of two queue workers (or two staff) doing one thing at the same moment."""

import threading
from collections.abc import Callable


def at_once(app, call: Callable[[], object], times: int = 2) -> list:
    """The results of `times` simultaneous calls, in the order they finished."""
    start = threading.Barrier(times)
    results = []

    def run():
        with app.app_context():
            from checkout.extensions import db

            start.wait()
            try:
                results.append(call())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
