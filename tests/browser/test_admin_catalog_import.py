"""Staff import a catalog CSV in a real browser: a bad row is reported by line and nothing is imported."""

import pytest
from playwright.sync_api import expect

from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import seed_test_shop

pytestmark = pytest.mark.browser

HEADER = "product_sku,product_name,category,status,description,variant_sku,options,price,stock\n"
GOOD = "SAR,Silk Saree,Clothing,active,Handwoven,SAR-RED,Colour=Red,2499.00,4\n"
BAD = "SAR,Silk Saree,Clothing,active,Handwoven,SAR-BLUE,Colour=Blue,12.345,4\n"


def seed():
    seed_test_shop()
    make_staff("owner", email="owner@sunrise.example.com", name="Meera")


def upload(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check file").click()


def test_a_bad_row_is_reported_by_line_and_a_clean_file_imports(serve_app, new_context, tmp_path):
    server = serve_app(seed)
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
    page.goto("/admin/products/import")
    expect(page.get_by_role("heading", name="Import catalog from CSV")).to_be_visible()

    upload(page, tmp_path, "bad.csv", HEADER + GOOD + BAD)
    problems = page.get_by_role("heading", name="1 problem found — nothing was imported")
    expect(problems).to_be_visible()
    expect(page.locator(".problems")).to_contain_text("Line 3:")
    with server.database() as session:
        from checkout.models import Variant

        assert session.query(Variant).filter(Variant.sku.like("SAR-%")).count() == 0

    upload(page, tmp_path, "good.csv", HEADER + GOOD + BAD.replace("12.345", "2599.00"))
    expect(page.get_by_role("heading", name="Preview: nothing has been imported yet")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert").filter(has_text="Imported")).to_contain_text("1 product(s) created")
    with server.database() as session:
        from checkout.models import Variant

        variants = {
            v.sku: (v.price_minor, v.stock_on_hand) for v in session.query(Variant).filter(Variant.sku.like("SAR-%"))
        }
        assert variants == {"SAR-RED": (249900, 4), "SAR-BLUE": (259900, 4)}
