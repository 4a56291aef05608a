"""The staff side: sign-in, order desk, catalog and stock, settings, staff accounts, dashboard."""

from flask import Blueprint

from admin.access import can

admin_blueprint = Blueprint("admin", __name__)


@admin_blueprint.app_context_processor
def admin_helpers():
    return {"can": can}


# Routes register on the blueprint when their modules are imported.
from admin import auth, catalog, dashboard, messages, orders, settings, staff, website  # noqa: E402,F401
