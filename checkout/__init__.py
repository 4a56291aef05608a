"""Chatout: cart-to-WhatsApp checkout. `create_app` builds the Flask application."""

from pathlib import Path

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from checkout.config import DEFAULT_INSTANCE_PATH, load_config
from checkout.database import configure_sqlite, include_in_autogenerate
from checkout.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(DEFAULT_INSTANCE_PATH),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(Path(app.instance_path)))
    app.config.update(overrides or {})
    if app.config["TRUSTED_PROXIES"]:
        # Client addresses (rate limits, session protection) and https links come from the proxy's headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from checkout import models  # noqa: F401  (registers every table)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, include_object=include_in_autogenerate
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    limiter.init_app(app)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from checkout import cli, notifications, page_cache, templating  # noqa: F401  (they subscribe to events)

    cli.register(app)
    templating.register(app)
    _register_blueprints(app)
    _register_error_pages(app)
    app.before_request(_refuse_nul_characters)
    return app


def _refuse_nul_characters():
    """No form, address or JSON field may carry a NUL character: no database column can store one.

    The WhatsApp webhook is exempt: it stores Meta's raw bytes and cleans them while processing.
    """
    if request.path == "/webhooks/whatsapp":
        return None
    suspicious = "\x00" in request.path or any("\x00" in v for v in request.args.values())
    if not suspicious and request.method in ("POST", "PUT", "PATCH"):
        if request.is_json:
            raw = request.get_data(cache=True)
            suspicious = b"\x00" in raw or b"\\u0000" in raw
        else:
            suspicious = any("\x00" in v for v in request.form.values())
    if not suspicious:
        return None
    message = "The request contains a NUL character, which no field may contain."
    if request.path.startswith("/api/"):
        return {"error": {"code": "bad_request", "message": message, "fields": {}}}, 400
    return render_template("error.html", title="Bad request", message=message), 400


def _register_blueprints(app: Flask) -> None:
    from admin import admin_blueprint
    from checkout.api import api_blueprint
    from checkout.whatsapp.sandbox_views import sandbox_blueprint
    from checkout.whatsapp.views import webhook_blueprint
    from storefront import storefront_blueprint

    app.register_blueprint(storefront_blueprint)
    app.register_blueprint(webhook_blueprint)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(admin_blueprint, url_prefix="/admin")
    app.register_blueprint(sandbox_blueprint)


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = "This form expired or was sent from another site. Go back, reload the page and try again."
        return render_template("error.html", title="Please try again", message=message), 400

    @app.errorhandler(400)
    def bad_request(error):
        return render_template("error.html", title="Bad request", message="That request could not be read."), 400

    @app.errorhandler(403)
    def forbidden(error):
        message = "Your account is not allowed to do that. Ask the shop owner if you need it."
        return render_template("error.html", title="Not allowed", message=message), 403

    @app.errorhandler(429)
    def too_many_requests(error):
        if request.path.startswith("/api/"):
            return {
                "error": {"code": "too_many_requests", "message": "Slow down and retry shortly.", "fields": {}}
            }, 429
        return render_template(
            "error.html", title="Slow down", message="Too many attempts. Wait a minute and try again."
        ), 429

    @app.errorhandler(404)
    def not_found(error):
        if request.path.startswith("/api/"):
            return {"error": {"code": "not_found", "message": "No such endpoint.", "fields": {}}}, 404
        return render_template("error.html", title="Not found", message="There is nothing at this address."), 404

    @app.errorhandler(405)
    def method_not_allowed(error):
        if request.path.startswith("/api/"):
            return {"error": {"code": "method_not_allowed", "message": "Method not allowed.", "fields": {}}}, 405
        return render_template("error.html", title="Not allowed", message="That action is not available here."), 405

    @app.errorhandler(413)
    def too_large(error):
        return render_template("error.html", title="Too large", message="That upload is too large."), 413

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return {"error": {"code": "server_error", "message": "Something went wrong; try again.", "fields": {}}}, 500
        return render_template("error.html", title="Something went wrong", message="Please try again in a moment."), 500
