"""Catalog CSV: the dry run finds every problem with its line, spreadsheet formulas are neutralised, values parse."""

import pytest
from sqlalchemy import func, select

from checkout.catalog.csv_import import CSV_MAX_BYTES, ImportOutdated, ImportRejected, apply_import, plan_import
from checkout.catalog.errors import InvalidValue
from checkout.catalog.stock import is_low_stock
from checkout.catalog.values import format_price, parse_options, parse_price, parse_stock_delta
from checkout.csv_safety import restore_cell, safe_cell, write_csv
from checkout.extensions import db
from checkout.models import Product, StockMovement
from tests.factories import make_order, make_product, make_store

HEADER = "product_sku,product_name,category,status,description,variant_sku,options,price,stock"


def csv_file(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


def problems(plan) -> list[tuple[int, str]]:
    return [(problem.line, problem.message) for problem in plan.problems]


@pytest.fixture
def store(app_context):
    return make_store()


# ---------------------------------------------------------------- csv_safety


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+91 98765", "'+91 98765"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("'=already quoted", "''=already quoted"),
        ("Plain text", "Plain text"),
        ("it's fine", "it's fine"),
        ("'quoted but harmless", "'quoted but harmless"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cell_quotes_what_a_spreadsheet_would_run_and_restore_cell_undoes_it(value, written):
    assert safe_cell(value) == written
    assert restore_cell(written) == ("" if value is None else str(value))


def test_write_csv_neutralises_every_cell_and_uses_crlf():
    document = write_csv([['=HYPERLINK("http://x")', "a,b", 3]], header=["name", "note", "n"])
    assert document == 'name,note,n\r\n"\'=HYPERLINK(""http://x"")","a,b",3\r\n'


# ---------------------------------------------------------------- typed values


@pytest.mark.parametrize(
    ("text", "minor"),
    [("799.50", 79950), ("0", 0), (" 12 ", 1200), ("99.5", 9950), ("1,299.00", 129900), ("₹100", 10000)],
)
def test_prices_parse_to_minor_units(text, minor):
    assert parse_price(text, "INR") == minor


@pytest.mark.parametrize(
    "text", ["12.345", "abc", "-1", "", "1.299,00", "$100", "1e3", "NaN", "Infinity", "99999999999", "1e999997"]
)
def test_bad_prices_are_refused_with_a_value_error(text):
    with pytest.raises(InvalidValue):
        parse_price(text, "INR")


def test_a_currency_without_minor_units_refuses_decimals():
    assert parse_price("1500", "JPY") == 1500
    with pytest.raises(InvalidValue, match="JPY amounts have no decimals"):
        parse_price("1500.5", "JPY")
    assert format_price(1500, "JPY") == "1500"
    assert format_price(0, "INR") == "0.00"


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("Size=M, Colour=Red", {"Size": "M", "Colour": "Red"}),
        ("Size=M; Colour=Red", {"Size": "M", "Colour": "Red"}),
        ("  ", {}),
        ("Fit = Slim ,", {"Fit": "Slim"}),
    ],
)
def test_options_parse_into_a_dict(text, options):
    assert parse_options(text) == options


@pytest.mark.parametrize("text", ["Size", "=M", "Size=", "Size=M, size=L", "A=" + "x" * 41])
def test_bad_options_are_refused(text):
    with pytest.raises(InvalidValue):
        parse_options(text)


@pytest.mark.parametrize(("text", "delta"), [("+10", 10), ("-2", -2), ("\u22122", -2), (" 7 ", 7)])
def test_stock_deltas_parse_with_either_minus_sign(text, delta):
    assert parse_stock_delta(text) == delta


@pytest.mark.parametrize("text", ["0", "", "ten", "1.5", "+-1", "2000000"])
def test_bad_stock_deltas_are_refused(text):
    with pytest.raises(InvalidValue):
        parse_stock_delta(text)


def test_low_stock_is_at_or_below_the_threshold():
    assert is_low_stock(5, 5) and is_low_stock(0, 5)
    assert not is_low_stock(6, 5)


# ---------------------------------------------------------------- dry run: the file as a whole


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", (0, "The file is empty.")),
        (b"  \r\n", (0, "The file is empty.")),
        (
            "\ufeffname,price\nTea,10\n".encode(),
            (1, "Missing column(s): product_sku, product_name, category, status, description"),
        ),
        (HEADER.encode() + b"\n", (0, "The file has a header but no rows.")),
        (HEADER.encode() + b"\nA,Caf\xe9,,active,,A-1,,10,1\n", (2, "The file is not UTF-8 text")),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (1, "The file is not UTF-8 text")),
        (b"PK\x03\x04\x00\x00binary", (0, "This is not a CSV file (it contains binary data).")),
        (HEADER.encode() + b'\nA,"unclosed,,active,,A-1,,10,1\n', (2, "This is not a readable CSV file")),
        (HEADER.encode() + b"\n" + b"x" * CSV_MAX_BYTES, (0, "The file is larger than 1024 KB")),
    ],
)
def test_a_file_that_cannot_be_read_is_reported_once(store, data, expected):
    plan = plan_import(data, "INR")
    assert len(plan.problems) == 1
    line, message = problems(plan)[0]
    assert line == expected[0] and message.startswith(expected[1]), message
    assert not plan.rows and not plan.changes


def test_a_bom_windows_line_ends_and_semicolons_are_understood(store):
    content = csv_file(
        'TEA;Assam Tea;Tea;active;"Strong,\r\nmalty";TEA-250;Weight=250 g;240.00;12',
        header=HEADER.replace(",", ";"),
        newline="\r\n",
    )
    plan = plan_import(b"\xef\xbb\xbf" + content, "INR")
    assert plan.is_clean, problems(plan)
    (row,) = plan.rows
    assert (row.line, row.product_sku, row.description, row.options, row.price_minor, row.stock) == (
        2,
        "TEA",
        "Strong,\nmalty",
        {"Weight": "250 g"},
        24000,
        12,
    )


def test_columns_may_come_in_any_order_and_extra_columns_are_ignored(store):
    header = "variant_sku,price,stock,Notes,product_sku,product_name,category,status,description,options"
    plan = plan_import(csv_file("T-1,10,1,ignore me,T,Tea,,active,,", header=header), "INR")
    assert plan.is_clean and plan.rows[0].variant_sku == "T-1"


# ---------------------------------------------------------------- dry run: every row


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(store):
    make_product("Existing", sku="OLD")
    content = csv_file(
        "GOOD,Good,Misc,active,,GOOD-1,,10.00,1",  # line 2: fine
        "P3,Three,Misc,active,,P3-1,,12.345,1",  # 3: too many decimals
        "P4,Four,Misc,active,,P4-1,,abc,1",  # 4: not a price
        "P5,Five,Misc,active,,P5-1,,-3,1",  # 5: negative price
        "P6,Six,Misc,active,,P6-1,,10,1.5",  # 6: bad stock
        "P7,Seven,Misc,active,,GOOD-1,,10,1",  # 7: duplicate variant SKU within the file
        "P8,Eight,Misc,for sale,,P8-1,,10,1",  # 8: unknown status
        "P9," + "n" * 121 + ",Misc,active,,P9-1,,10,1",  # 9: name too long
        "P10,Ten,Misc,active",  # 10: missing cells
        ",Eleven,Misc,active,,P11-1,,10,1",  # 11: missing product SKU
        "P12,Twelve,Misc,active,,P12-1,Size,10,1",  # 12: bad options
        "OLD,Moved,,active,,OLD-0,,10,1",  # 13: fine on its own…
        "P14,Fourteen,Misc,active,,OLD-0,,10,1",  # 14: …but also a duplicate SKU
        "=cmd,Formula,Misc,active,,P15-1,,10,1",  # 15: not a SKU
    )
    plan = plan_import(content, "INR")
    lines = sorted({line for line, _ in problems(plan)})
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    messages = dict(problems(plan))
    assert "INR amounts have at most 2 decimals" in messages[3]
    assert "is not an amount" in messages[4]
    assert "negative" in messages[5]
    assert messages[6].startswith("stock: “1.5” is not a stock quantity")
    assert messages[7] == "variant_sku “GOOD-1” is already used on line 2."
    assert messages[8].startswith("status: unknown status “for sale”")
    assert messages[9] == "product_name: too long (121 characters; at most 120)."
    assert messages[10] == "This row has 4 cells but the header has 9."
    assert messages[11] == "product_sku: Enter a SKU."
    assert messages[12].startswith("options: Write options as Name=Value pairs")
    assert not plan.changes
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1


def test_rows_of_one_product_must_agree_on_its_details(store):
    content = csv_file(
        "TEA,Assam Tea,Tea,active,,TEA-1,Weight=100 g,10,1",
        "TEA,Assam Tea,Tea,draft,,TEA-2,Weight=250 g,20,1",
    )
    assert problems(plan_import(content, "INR")) == [
        (3, "status differs from line 2, which has the same product_sku “TEA”.")
    ]


def test_a_variant_cannot_move_to_another_product_nor_duplicate_options(store):
    make_product("Kurta", sku="KURTA", options=[{"Size": "M"}, {"Size": "L"}])
    content = csv_file(
        "OTHER,Other,,active,,KURTA-0,,10,1",
        "KURTA,Kurta,,active,,KURTA-XL,Size=L,10,1",
        "KURTA,Kurta,,active,,KURTA-XXL,,10,1",
    )
    assert problems(plan_import(content, "INR")) == [
        (2, "variant_sku “KURTA-0” belongs to product “KURTA” (Kurta); a variant cannot move to another product."),
        (3, "options “Size=L” are the same as variant “KURTA-1”."),
        (4, "options are empty, but product “KURTA” has several variants; give each its options."),
    ]


def test_stock_cannot_be_set_below_what_open_orders_reserved(store):
    tea = make_product("Tea", sku="TEA", stock=10)
    make_order([(tea.variants[0], 4)])
    plan = plan_import(csv_file("TEA,Tea,,active,About Tea,TEA-0,,100.00,3"), "INR")
    assert problems(plan) == [(2, "stock 3 is below the 4 unit(s) reserved by open orders.")]


# ---------------------------------------------------------------- plan and apply


def test_a_clean_plan_lists_changes_and_apply_writes_them_through_the_ledger(store):
    make_product("Tea", sku="TEA", stock=10, price_minor=10000)
    content = csv_file(
        "TEA,Tea,,active,About Tea,TEA-0,,100.00,10",  # unchanged
        "SOAP,Soap,Bath,active,,SOAP-1,,49.00,0",
    )
    plan = plan_import(content, "INR")
    assert plan.is_clean and plan.unchanged_rows == 1
    assert [(c.line, c.kind, c.action, c.sku) for c in plan.changes] == [
        (3, "product", "create", "SOAP"),
        (3, "variant", "create", "SOAP-1"),
    ]
    applied = apply_import(content, "INR", None, plan.fingerprint)
    assert applied.fingerprint == plan.fingerprint
    soap = db.session.scalars(select(Product).where(Product.sku == "SOAP")).one()
    assert (soap.slug, soap.category.name, soap.variants[0].price_minor) == ("soap", "Bath", 4900)
    imported = select(func.count()).select_from(StockMovement).where(StockMovement.reason == "CSV import")
    assert db.session.scalar(imported) == 0  # stock 0 → 0 changed nothing


def test_apply_refuses_a_plan_that_no_longer_matches(store):
    make_product("Tea", sku="TEA", stock=10, price_minor=10000)
    content = csv_file("TEA,Tea,,active,About Tea,TEA-0,,120.00,10")
    with pytest.raises(ImportOutdated):
        apply_import(content, "INR", None, "fingerprint of another preview")
    bad = csv_file("TEA,Tea,,active,About Tea,TEA-0,,abc,10")
    with pytest.raises(ImportRejected):
        apply_import(bad, "INR", None, plan_import(bad, "INR").fingerprint)
    assert db.session.scalars(select(Product)).one().variants[0].price_minor == 10000


def test_prices_from_a_csv_read_plain_first_and_as_the_shops_locale_writes_them():
    assert parse_price("12.500", "TND", "ar_TN", from_file=True) == 12500  # as export_catalog_csv writes
    assert parse_price("1.299,50", "EUR", "de_DE", from_file=True) == 129950  # as a German Excel saves it
