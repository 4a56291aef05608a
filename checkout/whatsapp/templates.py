"""The message templates Chatout asks a shop to submit to Meta, with their exact wording.

Outside the 24-hour customer service window only approved templates may be sent. These are all
UTILITY templates (order confirmations and updates, nothing promotional). The sandbox renders them
from this same table, and README.md lists them for submission; a template's name in Meta must
match the key here.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    body: str  # with {{1}}, {{2}}… as Meta numbers its parameters
    quick_replies: tuple[str, ...] = ()

    @property
    def parameter_count(self) -> int:
        return len(set(re.findall(r"\{\{(\d+)\}\}", self.body)))

    def render(self, parameters: list[str]) -> str:
        return re.sub(r"\{\{(\d+)\}\}", lambda m: parameters[int(m.group(1)) - 1], self.body)


ORDER_CONFIRMATION = MessageTemplate(
    name="order_confirmation",
    body=(
        "Hi {{1}}, thank you for your order {{2}} at {{3}}. Total: {{4}}. "
        "Please confirm it so we can prepare it, or cancel it if you changed your mind."
    ),
    quick_replies=("Confirm order", "Cancel order"),
)
ORDER_CONFIRMATION_REMINDER = MessageTemplate(
    name="order_confirmation_reminder",
    body=(
        "Hi {{1}}, your order {{2}} at {{3}} is still waiting for your confirmation. "
        "We hold the items until {{4}}. Please confirm or cancel."
    ),
    quick_replies=("Confirm order", "Cancel order"),
)
ORDER_UPDATE = MessageTemplate(
    name="order_update",
    body="Update on your order {{1}} at {{2}}: {{3}}. Follow your order here: {{4}}",
)
NEW_ORDER_ALERT = MessageTemplate(
    name="new_order_alert",
    body="New order {{1}} from {{2}}, total {{3}}. Open the order desk to confirm it: {{4}}",
)

TEMPLATES = {t.name: t for t in (ORDER_CONFIRMATION, ORDER_CONFIRMATION_REMINDER, ORDER_UPDATE, NEW_ORDER_ALERT)}
