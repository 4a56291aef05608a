"""Domain events, delivered synchronously inside the transaction that raised them.

The order domain announces what happened ("order.created", "order.status_changed",
"payment.recorded") without knowing who listens; notifications subscribe and write their outbox
rows in the same transaction, so a message exists exactly when the change it reports does.
Messaging announces a message that gave up ("message.failed") the same way: the outbox and the
webhook know nothing of what notifications do about it.
"""

from collections import defaultdict
from collections.abc import Callable

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
PAYMENT_RECORDED = "payment.recorded"
REFUND_RECORDED = "refund.recorded"  # published with order, payment (the refund row), tell_customer
# published with return_request=ReturnRequest when staff decide on a return, or it is received: the customer hears
RETURN_UPDATED = "return.updated"
# published with order, reason when staff refuse the new address a customer typed after a failed delivery
ADDRESS_CHANGE_REJECTED = "order.address_change_rejected"
MESSAGE_FAILED = "message.failed"  # published with message=Message, failure=SendFailed, in its transaction
# published with conversation=Conversation, reason=str when a chat starts waiting for a person
CONVERSATION_WAITING = "conversation.waiting_for_person"

_subscribers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(name: str):
    """Decorator: call the function with the event's keyword arguments whenever `name` is published."""

    def register(handler: Callable) -> Callable:
        if handler not in _subscribers[name]:
            _subscribers[name].append(handler)
        return handler

    return register


def publish(name: str, **data) -> None:
    for handler in list(_subscribers[name]):
        handler(**data)
