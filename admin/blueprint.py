"""The staff side's blueprint: every admin screen module registers its routes on it."""

from flask import Blueprint

from admin.access import can

admin_blueprint = Blueprint("admin", __name__)


@admin_blueprint.app_context_processor
def admin_helpers():
    return {"can": can}
