"""Admin: catalog (being built)."""

from flask import render_template

from admin import admin_blueprint as bp
from admin.access import requires
from checkout.permissions import Permission


@bp.get("/products")
@requires(Permission.VIEW_CATALOG)
def products():
    return render_template("admin/placeholder.html", title="Catalog")
