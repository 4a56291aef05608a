"""Service products in the catalog: a kind and a duration, typed in the admin form or a CSV file; no stock, no
picture, never sold out, nothing reserved when one is ordered."""

import csv
import io

import pytest
from sqlalchemy import func, select

from checkout.catalog import stock
from checkout.catalog.csv_export import export_catalog_csv
from checkout.catalog.csv_import import apply_import, plan_import
from checkout.catalog.errors import InvalidValue, ProductRejected
from checkout.catalog.products import ProductDraft, VariantDraft, save_product
from checkout.catalog.values import format_duration, parse_duration, parse_kind
from checkout.extensions import db
from checkout.models import Product, StockMovement, StockReservation
from checkout.service_sessions import format_time_left
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.sessions.helpers import make_service


@pytest.mark.parametrize(
    ("kind", "typed", "minutes"), [("service", "60", 60), ("service", " 1 ", 1), ("goods", "", None)]
)
def test_a_duration_is_whole_minutes_for_a_service_and_nothing_for_goods(kind, typed, minutes):
    assert parse_duration(typed, kind) == minutes


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("service", "", "Enter the minutes"),
        ("service", "0", "from 1 to 1,440"),
        ("service", "1.5", "whole number"),
        ("service", "1441", "from 1 to 1,440"),
        ("goods", "30", "Only a service has a duration"),
    ],
)
def test_a_wrong_duration_says_what_to_type(kind, typed, message):
    with pytest.raises(InvalidValue, match=message):
        parse_duration(typed, kind)


def test_kinds_read_in_any_case_and_blank_means_goods():
    assert (parse_kind("Service"), parse_kind(""), parse_kind("GOODS")) == ("service", "goods", "goods")
    with pytest.raises(InvalidValue, match="use goods or service"):
        parse_kind("rental")


def test_durations_and_time_left_read_as_people_say_them():
    assert (format_duration(60), format_duration(1), format_duration(None)) == ("60 minutes", "1 minute", "")
    assert [format_time_left(s) for s in (3600, 3599, 61, 0, -5, 3725)] == [
        "1:00:00",
        "59:59",
        "1:01",
        "0:00",
        "0:00",
        "1:02:05",
    ]


def service_draft(**changes) -> ProductDraft:
    fields = dict(
        name="Legal consultation",
        description="An hour with a lawyer in the chat.",
        status="active",
        kind="service",
        duration_minutes="60",
        variants=(VariantDraft(sku="LAW-60", price="200", stock="5"),),
    )
    fields.update(changes)
    return ProductDraft(**fields)


def test_a_service_is_saved_with_its_duration_and_no_stock_even_when_some_was_typed(app_context):
    make_store(currency="KES", locale="en_KE")
    product = save_product(None, service_draft(), currency="KES", staff=None)
    assert (product.kind, product.duration_minutes, product.image_url) == ("service", 60, "")
    assert product.variants[0].stock_on_hand == 0 and product.variants[0].price_minor == 20000
    assert db.session.scalar(select(func.count(StockMovement.id))) == 0  # no opening stock in the ledger


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": ""}, "duration_minutes"),
        ({"kind": "goods"}, "duration_minutes"),  # goods with a duration
        ({"kind": "hire"}, "kind"),
    ],
)
def test_a_service_without_a_duration_or_goods_with_one_is_refused(app_context, changes, field):
    make_store()
    with pytest.raises(ProductRejected) as refused:
        save_product(None, service_draft(**changes), currency="INR", staff=None)
    assert field in {error.field for error in refused.value.errors}
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_a_service_is_never_sold_out_and_ordering_one_reserves_nothing(app_context):
    make_store(max_pending_units_per_phone=1)  # a cap on units held counts goods, never a service's minutes
    law = make_service().variants[0]
    assert stock.available_quantities([law]) == {law.id: stock.SERVICE_AVAILABLE}
    order = make_order([(law, 3)], details=customer(fulfilment="pickup", address=""))
    assert order.total_minor == 60000 and order.status == "pending"
    assert db.session.scalar(select(func.count(StockReservation.id))) == 0
    level = stock.variant_stock_levels([law], threshold=5)[law.id]
    assert not level.is_low and level.alert == ""
    assert stock.variants_out_of_step_with_ledger() == {}


def test_an_order_of_goods_and_a_service_reserves_only_the_goods(app_context):
    make_store()
    tea = make_product("Assam Tea", price_minor=24000, stock=2).variants[0]
    law = make_service().variants[0]
    order = make_order([(tea, 2), (law, 1)])
    assert [(r.variant_id, r.quantity) for r in order.reservations] == [(tea.id, 2)]


def test_the_catalog_csv_carries_kind_and_duration_and_reads_back_unchanged(app_context):
    make_store()
    make_product("Assam Tea", price_minor=24000, stock=4, sku="TEA")
    make_service()
    exported = export_catalog_csv("INR")
    rows = {row["product_sku"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert (rows["LAW"]["kind"], rows["LAW"]["duration_minutes"], rows["LAW"]["stock"]) == ("service", "60", "0")
    assert (rows["TEA"]["kind"], rows["TEA"]["duration_minutes"]) == ("goods", "")
    plan = plan_import(exported.encode(), "INR")
    assert plan.is_clean and not plan.has_changes


HEADER = "product_sku,product_name,category,status,description,variant_sku,options,price,stock,keywords,kind"


def test_a_csv_file_creates_a_service_with_a_blank_stock_cell(app_context):
    make_store()
    content = f"{HEADER},duration_minutes\nCOACH,Career coaching,,active,Talk it through,COACH-1,,500,,,service,45\n"
    plan = plan_import(content.encode(), "INR")
    assert plan.is_clean, plan.problems
    assert "kind" in {change.name for change in plan.changes[0].fields}
    apply_import(content.encode(), "INR", None, plan.fingerprint)
    coach = db.session.scalar(select(Product).where(Product.sku == "COACH"))
    assert (coach.kind, coach.duration_minutes, coach.variants[0].stock_on_hand) == ("service", 45, 0)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (",service,\n", "duration_minutes: Enter the minutes"),
        (",rental,30\n", "kind: Unknown kind"),
        (",goods,30\n", "duration_minutes: Only a service has a duration"),
    ],
)
def test_a_csv_row_with_a_wrong_kind_or_duration_names_its_line(app_context, tail, message):
    make_store()
    content = f"{HEADER},duration_minutes\nCOACH,Career coaching,,active,Talk,COACH-1,,500,0,{tail}"
    plan = plan_import(content.encode(), "INR")
    assert [(problem.line, message in problem.message) for problem in plan.problems] == [(2, True)]


def test_staff_make_a_service_in_the_admin_form_and_the_shop_shows_its_duration(app, client):
    with app.app_context():
        make_store()
        make_staff("manager", email="mani@sunrise.example.com")
    sign_in(client, "mani@sunrise.example.com")
    form = {
        "name": "Legal consultation",
        "description": "An hour with a lawyer.",
        "status": "active",
        "kind": "service",
        "duration_minutes": "60",
        "variants-0-sku": "LAW-60",
        "variants-0-options": "",
        "variants-0-price": "200",
        "variants-0-stock": "",
    }
    response = client.post("/admin/products/new", data=form)
    assert response.status_code == 303
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Service: 60 minutes per unit in the WhatsApp chat, no stock kept." in detail
    edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
    assert '<option selected value="service">' in edit and 'value="60"' in edit
    with app.app_context():
        slug = db.session.scalar(select(Product.slug))
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    assert "60 minutes with us in WhatsApp" in page and "Sold out" not in page and "Add to cart" in page
    refused = client.post("/admin/products/new", data={**form, "name": "Other", "duration_minutes": ""})
    assert refused.status_code == 422 and "Enter the minutes a service gives" in refused.get_data(as_text=True)
