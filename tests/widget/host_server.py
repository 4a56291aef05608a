"""A shop's own website for widget tests: the HTML pages in this folder, served on a port of their own.

Another port is another origin, so the widget is loaded cross-origin from the app exactly as on a real
shop's site. Pages are templates: __APP_URL__ and __WIDGET_KEY__ come from the test, __LANG__, __MODE__
and __PHONE__ (the snippet's data-phone) from the query string (`/host_page.html?lang=pt-BR&mode=chat`).
`?trusted_types=1` serves the page as a site enforcing Trusted Types does.
"""

import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).resolve().parent
SAFE_VALUE = re.compile(r"^[A-Za-z-]{0,16}$")
TRUSTED_TYPES_ONLY = "require-trusted-types-for 'script'"


class HostSite:
    """Start with `start()`; `origin` is what the app must list in allowed_origins."""

    def __init__(self):
        self.values = {"__APP_URL__": "", "__WIDGET_KEY__": ""}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the name http.server calls)
                url = urlsplit(self.path)
                page = PAGES / url.path.lstrip("/")
                if page.parent != PAGES or page.suffix != ".html" or not page.exists():
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                query = {name: values[0] for name, values in parse_qs(url.query).items()}
                body = site.render(page.read_text(), query).encode()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if query.get("trusted_types"):
                    self.send_header("Content-Security-Policy", TRUSTED_TYPES_ONLY)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="host-site", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def url(self, page: str = "host_page.html", **query: str) -> str:
        params = "&".join(f"{name}={value}" for name, value in query.items())
        return f"{self.origin}/{page}" + (f"?{params}" if params else "")

    def render(self, html: str, query: dict) -> str:
        values = dict(self.values)
        values["__LANG__"] = query.get("lang", "en") if SAFE_VALUE.match(query.get("lang", "en")) else "en"
        values["__MODE__"] = "chat" if query.get("mode") == "chat" else "cart"
        values["__PHONE__"] = "".join(c for c in query.get("phone", "") if c.isdigit())
        for placeholder, value in values.items():
            html = html.replace(placeholder, value)
        return html

    def start(self) -> "HostSite":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
