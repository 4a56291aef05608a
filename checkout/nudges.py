"""After-commit nudges to the job queue, through hooks the app factory registers.

The outbox and the sending pause (checkout/whatsapp/account_health.py) sit below the queue
(checkout/jobs.py): they only say what has become due, and `create_app` connects that to the queue.
With no hook registered (code run without the factory) a nudge does nothing: the work is in the
database, and the periodic sweep or `outbox.run_due` finds it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QueueHooks:
    deliver: Callable[[list[int], datetime | None], None]  # outbox item ids, and when (None: now)
    probe_sending: Callable[[datetime], None]  # when to try one message while sending is paused
    media_download: Callable[[list[int], datetime | None], None] | None = None  # media file ids, and when


_hooks: QueueHooks | None = None


def register(hooks: QueueHooks) -> None:
    """Where this process's nudges go (one queue per process: the last registration wins)."""
    global _hooks
    _hooks = hooks


def delivery_due(item_ids: list[int], at: datetime | None = None) -> None:
    """These outbox items may be delivered now, or from `at` on."""
    if _hooks is not None:
        _hooks.deliver(item_ids, at)


def media_download_due(media_file_ids: list[int], at: datetime | None = None) -> None:
    """These inbound media files may be downloaded now, or from `at` on (checkout/whatsapp/media.py)."""
    if _hooks is not None and _hooks.media_download is not None:
        _hooks.media_download(media_file_ids, at)


def sending_probe_due(at: datetime) -> None:
    """While WhatsApp sending is paused, one waiting message may be tried at `at`."""
    if _hooks is not None:
        _hooks.probe_sending(at)
