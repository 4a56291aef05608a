"""Admin: settings (being built)."""

from flask import render_template

from admin import admin_blueprint as bp
from admin.access import requires
from checkout.permissions import Permission


@bp.get("/settings")
@requires(Permission.EDIT_SETTINGS)
def settings():
    return render_template("admin/placeholder.html", title="Settings")
