"""Shoppers and staff as a browser without JavaScript: plain form posts carrying the page's CSRF token.

Every call names the instance it talks to, so a test can load a page from one instance and post the
form to another: the session cookie (cart, sign-in, CSRF secret) is signed with the shared SECRET_KEY and
must work on any instance. Cookies ignore ports, so one `requests.Session` sends them to both.
"""

import html
import re
from dataclasses import dataclass, field

import requests

TIMEOUT = 20  # seconds for any one request: a loaded local server answers far sooner
SOLD_OUT = "Not enough stock"
HANDOFF = re.compile(r"/o/([^/]+)/whatsapp$")


class UnexpectedPage(Exception):
    """The site answered something a browser could not go on from (not an assertion of the test itself)."""


def form_value(page: str, name: str) -> str:
    """The value of the first <input name="…"> on the page (the CSRF token, a hidden field…)."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0)) if tag else None
    if value is None:
        raise UnexpectedPage(f"no <input name={name!r}> with a value on the page:\n{page[:2000]}")
    return html.unescape(value.group(1))


def _expect(response: requests.Response, *statuses: int) -> requests.Response:
    if response.status_code not in statuses:
        raise UnexpectedPage(
            f"{response.request.method} {response.url} answered {response.status_code}, expected {statuses}:\n"
            f"{response.text[:1500]}"
        )
    return response


@dataclass(frozen=True)
class CheckoutOutcome:
    """What one checkout submission got back: the order's handoff page, or the out-of-stock message."""

    instance: str
    status: int
    token: str | None  # the order's status token when redirected to its handoff page
    sold_out: bool
    body: str

    @classmethod
    def read(cls, instance: str, response: requests.Response) -> "CheckoutOutcome":
        handoff = HANDOFF.search(response.headers.get("Location", "")) if response.status_code == 303 else None
        sold_out = response.status_code == 409 and SOLD_OUT in response.text
        return cls(instance, response.status_code, handoff.group(1) if handoff else None, sold_out, response.text)

    @property
    def understood(self) -> bool:
        return self.token is not None or self.sold_out


@dataclass
class Shopper:
    """One person with one browser (one cookie jar) and one cart."""

    number: int
    local_phone: str  # as typed, e.g. "9800000007"; the shop's region makes it +91…
    phone: str  # E.164, what the order must carry
    session: requests.Session = field(default_factory=requests.Session)
    checkout_form: dict = field(default_factory=dict)
    outcomes: list[CheckoutOutcome] = field(default_factory=list)

    def fill_cart(self, browse_on: str, post_on: str, product_slug: str, variant_id: int) -> None:
        """Look at the product on one instance, add one unit through the other, open checkout on the first."""
        _expect(self.session.get(f"{browse_on}/p/{product_slug}", timeout=TIMEOUT), 200)
        added = self.session.post(
            f"{post_on}/cart/add",
            data={"variant_id": variant_id, "quantity": 1},  # the product page carries no token: none needed
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        _expect(added, 302, 303)
        checkout = _expect(self.session.get(f"{browse_on}/checkout", timeout=TIMEOUT), 200).text
        self.checkout_form = {
            "csrf_token": form_value(checkout, "csrf_token"),
            "checkout_key": form_value(checkout, "checkout_key"),
            "expected_subtotal": form_value(checkout, "expected_subtotal"),
            "name": f"Shopper {self.number}",
            "phone": self.local_phone,
            "fulfilment": "delivery",
            "address": f"Flat {self.number}, Lake View Road",
            "payment_method": "cod",
            "note": "",
        }

    def submit_checkout(self, instance: str) -> CheckoutOutcome:
        """Post the checkout form as it stands, from a copy of this browser's cookies (a second tab, a
        double click), so the same form can be in flight to two instances at once."""
        tab = requests.Session()
        tab.cookies.update(self.session.cookies)
        response = tab.post(f"{instance}/checkout", data=self.checkout_form, allow_redirects=False, timeout=TIMEOUT)
        outcome = CheckoutOutcome.read(instance, response)
        self.outcomes.append(outcome)
        return outcome

    @property
    def order_tokens(self) -> set[str]:
        return {outcome.token for outcome in self.outcomes if outcome.token}


@dataclass
class StaffDesk:
    """A staff member's browser on the admin order desk."""

    email: str
    password: str
    session: requests.Session = field(default_factory=requests.Session)

    def sign_in(self, instance: str) -> None:
        page = _expect(self.session.get(f"{instance}/admin/login", timeout=TIMEOUT), 200).text
        response = self.session.post(
            f"{instance}/admin/login",
            data={"csrf_token": form_value(page, "csrf_token"), "email": self.email, "password": self.password},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        _expect(response, 302, 303)

    def open_order(self, instance: str, reference: str) -> dict:
        """The order page's status form: its CSRF token and the version the page shows."""
        page = _expect(self.session.get(f"{instance}/admin/orders/{reference}", timeout=TIMEOUT), 200).text
        return {"csrf_token": form_value(page, "csrf_token"), "version": form_value(page, "version")}

    def post_status(self, instance: str, reference: str, form: dict, target: str, **fields) -> requests.Response:
        return self.session.post(
            f"{instance}/admin/orders/{reference}/status",
            data={**form, "target": target, **fields},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def change_status(self, read_on: str, post_on: str, reference: str, target: str, **fields) -> None:
        """Open the order on one instance and press the button, which posts to the other."""
        response = self.post_status(post_on, reference, self.open_order(read_on, reference), target, **fields)
        _expect(response, 303)
