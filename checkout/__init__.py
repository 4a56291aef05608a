"""Chatout: cart-to-WhatsApp checkout. `create_app` builds the Flask application."""

from pathlib import Path

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from checkout import nudges
from checkout.config import DEFAULT_INSTANCE_PATH, load_config
from checkout.database import configure_sqlite
from checkout.extensions import compress, csrf, db, limiter, login_manager
from checkout.web import cross_site, integer_input, json_input, security_headers
from checkout.web.json_errors import error_body

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
    json_input.register(app)
    if app.config["TRUSTED_PROXIES"]:
        # Client addresses (rate limits, session protection) and https links come from the proxy's headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from checkout import models  # noqa: F401  (registers every table)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    limiter.init_app(app)
    app.config.setdefault("COMPRESS_REGISTER", False)  # registered below, with the private pages left out
    compress.init_app(app)
    app.after_request(_compress_public_responses)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from checkout import cli, jobs, notifications, service_sessions  # noqa: F401  (they subscribe to events)
    from checkout.payments import subscribers  # noqa: F401  (asks for payment on order events)
    from checkout.web import page_cache, templating  # noqa: F401  (they subscribe to events)

    jobs.init_app(app)
    # The outbox and the sending pause sit below the queue: their after-commit nudges reach it through these hooks.
    nudges.register(
        nudges.QueueHooks(
            deliver=jobs.nudge_delivery,
            probe_sending=jobs.nudge_sending_probe,
            media_download=jobs.nudge_media_download,
        )
    )
    cli.register(app)
    templating.register(app)
    integer_input.register(app)

    from admin import admin_blueprint
    from admin.sandbox import sandbox_blueprint
    from checkout.api import api_blueprint
    from checkout.carriers.views import carrier_webhooks_blueprint
    from checkout.payments.webhook_views import payment_webhooks_blueprint
    from checkout.whatsapp.views import webhook_blueprint
    from storefront import storefront_blueprint

    app.register_blueprint(storefront_blueprint)
    app.register_blueprint(webhook_blueprint)
    app.register_blueprint(payment_webhooks_blueprint)
    app.register_blueprint(carrier_webhooks_blueprint)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(admin_blueprint, url_prefix="/admin")
    app.register_blueprint(sandbox_blueprint)
    # Browsers ask for /favicon.ico whatever the page says: answer it rather than log a 404.
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    _register_error_pages(app)
    app.before_request(_refuse_nul_characters)
    cross_site.register(app)
    security_headers.register(app)
    return app


# Staff and token pages carry secrets (CSRF tokens, customers' details) beside text a visitor can make them
# repeat (search boxes, form errors): compressed, their sizes would leak the secrets byte by byte (BREACH).
UNCOMPRESSED_PREFIXES = ("/admin", "/sandbox", "/o/")


def _compress_public_responses(response):
    """Compress the storefront, the API and static files; never the pages listed in UNCOMPRESSED_PREFIXES."""
    if request.path.startswith(UNCOMPRESSED_PREFIXES):
        return response
    return compress.after_request(response)


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
        return error_body("bad_request", message), 400
    return render_template("error.html", title="Bad request", message=message), 400


def _favicon():
    return current_app.send_static_file("icons/favicon.ico")


def _error(status: int, code: str, title: str, message: str, api_message: str | None = None):
    """The error page; under /api/ the Store API's one JSON shape, whichever handler answers."""
    if request.path.startswith("/api/"):
        return error_body(code, api_message or message), status
    return render_template("error.html", title=title, message=message), status


def _register_error_pages(app: Flask) -> None:
    # Handlers for a status code win over the API blueprint's HTTPException handler, so each of them
    # answers the API itself (through `_error`).
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = "This form expired or was sent from another site. Go back, reload the page and try again."
        return render_template("error.html", title="Please try again", message=message), 400

    @app.errorhandler(400)
    def bad_request(error):
        return _error(400, "bad_request", "Bad request", "That request could not be read.")

    @app.errorhandler(cross_site.CrossSiteRequest)
    def sent_from_another_site(error):
        return render_template("error.html", title="Sent from another site", message=error.description), 403

    @app.errorhandler(403)
    def forbidden(error):
        message = "Your account is not allowed to do that. Ask the shop owner if you need it."
        return _error(403, "forbidden", "Not allowed", message, api_message="Not allowed.")

    @app.errorhandler(429)
    def too_many_requests(error):
        message = "Too many attempts. Wait a minute and try again."
        return _error(429, "too_many_requests", "Slow down", message, api_message="Slow down and retry shortly.")

    @app.errorhandler(404)
    def not_found(error):
        message = "There is nothing at this address."
        return _error(404, "not_found", "Not found", message, api_message="No such endpoint.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        message = "That action is not available here."
        return _error(405, "method_not_allowed", "Not allowed", message, api_message="Method not allowed.")

    @app.errorhandler(413)
    def too_large(error):
        api_message = f"The body can be at most {app.config['MAX_CONTENT_LENGTH']:,} bytes."
        return _error(413, "too_large", "Too large", "That upload is too large.", api_message=api_message)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        message = "Please try again in a moment."
        return _error(
            500, "server_error", "Something went wrong", message, api_message="Something went wrong; try again."
        )
