"""The dashboard's orders chart in a real browser: its value label never sits on a bar."""

import pytest
from playwright.sync_api import expect

from checkout.extensions import db
from checkout.models import Product
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import MOBILE, seed_test_shop
from tests.factories import make_order

pytestmark = pytest.mark.browser


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")
    variant = db.session.query(Product).filter_by(sku="TAW").one().variants[0]
    make_order([(variant, 1)])  # today: the last bar is the tallest, right under where the label goes


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


@pytest.mark.parametrize("device", [MOBILE, None], ids=["phone", "desktop"])
def test_the_chart_label_does_not_overlap_the_tallest_bar(serve_app, new_context, device):
    server = serve_app(seed)
    page = new_context(server, **({"device": device} if device else {})).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
    page.goto("/admin/dashboard")
    chart = page.locator("#orders-chart")
    chart.scroll_into_view_if_needed()
    label = chart.locator("text", has_text="most:")
    expect(label).to_have_text("most: 1")
    label_box = label.bounding_box()
    bars = [bar.bounding_box() for bar in chart.locator("rect.bar").all()]
    tallest = max(bars, key=lambda box: box["height"])
    assert tallest["height"] > 0 and not overlaps(label_box, tallest)
    chart_box = chart.bounding_box()
    assert label_box["y"] >= chart_box["y"] - 0.5  # the label is inside the picture, not cut off
