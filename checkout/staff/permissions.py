"""What each staff role may do: the one table every admin route is checked against.

owner       everything, including staff accounts and store settings
manager     orders, payments, approving refunds, catalog and stock, exports, discount codes, acting as a customer
            in the sandbox, the shop's FAQ answers, running paid service sessions in the inbox
fulfilment  order status, fulfilment fields (carrier, tracking, dates), assignment and notes, the inbox
            (reading and answering customers' chats)
viewer      reads everything it may see, changes nothing
"""

import enum


class Permission(enum.StrEnum):
    VIEW_ORDERS = "view_orders"
    CHANGE_ORDER_STATUS = "change_order_status"
    EDIT_FULFILMENT = "edit_fulfilment"
    ASSIGN_ORDERS = "assign_orders"
    ADD_NOTES = "add_notes"
    RECORD_PAYMENTS = "record_payments"
    # Giving money back: through the payment provider (Stripe, Razorpay) or recorded by hand.
    APPROVE_REFUNDS = "approve_refunds"
    EXPORT_ORDERS = "export_orders"
    VIEW_CATALOG = "view_catalog"
    EDIT_CATALOG = "edit_catalog"
    VIEW_DASHBOARD = "view_dashboard"
    EDIT_SETTINGS = "edit_settings"
    MANAGE_STAFF = "manage_staff"
    # Discount codes: create, pause and resume, see who used them, export them.
    MANAGE_COUPONS = "manage_coupons"
    # Playing a customer's phone in the WhatsApp sandbox: its taps confirm and cancel real orders.
    ACT_AS_CUSTOMER = "act_as_customer"
    # The shop's FAQ: answers the WhatsApp chat gives customers on its own.
    MANAGE_FAQ = "manage_faq"
    # The inbox: read every customer's chat and answer it, take it from the bot or hand it back.
    ANSWER_CONVERSATIONS = "answer_conversations"
    # Paid service sessions: answering a customer whose paid session is waiting or running (it starts it).
    RUN_SESSIONS = "run_sessions"


P = Permission
_READ = {P.VIEW_ORDERS, P.VIEW_CATALOG, P.VIEW_DASHBOARD}
_FULFIL = _READ | {P.CHANGE_ORDER_STATUS, P.EDIT_FULFILMENT, P.ASSIGN_ORDERS, P.ADD_NOTES, P.ANSWER_CONVERSATIONS}
_MANAGE = _FULFIL | {
    P.RECORD_PAYMENTS,
    P.APPROVE_REFUNDS,
    P.EXPORT_ORDERS,
    P.EDIT_CATALOG,
    P.ACT_AS_CUSTOMER,
    P.MANAGE_FAQ,
    P.MANAGE_COUPONS,
    P.RUN_SESSIONS,
}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "owner": frozenset(Permission),
    "manager": frozenset(_MANAGE),
    "fulfilment": frozenset(_FULFIL),
    "viewer": frozenset(_READ),
}

ROLE_LABELS = {
    "owner": "Owner",
    "manager": "Manager",
    "fulfilment": "Fulfilment",
    "viewer": "Viewer",
}


def role_allows(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
