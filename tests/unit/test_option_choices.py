"""Option choices for the product page: one entry per option, values in catalog order, sold out when none is left."""

from checkout.catalog.queries import option_choices
from tests.factories import make_product, make_store


def test_each_option_lists_its_values_once_and_marks_values_with_nothing_left(app_context):
    make_store()
    shirt = make_product(
        "Shirt",
        options=[
            {"Size": "S", "Colour": "White"},
            {"Size": "S", "Colour": "Blue"},
            {"Size": "M", "Colour": "White"},
            {"Size": "M", "Colour": "Blue"},
        ],
    )
    s_white, s_blue, m_white, m_blue = (v.id for v in shirt.variants)
    available = {s_white: 3, s_blue: 0, m_white: 0, m_blue: 0}

    choices = option_choices(shirt, available)

    assert [(c.name, [(v.value, v.in_stock) for v in c.values]) for c in choices] == [
        ("Size", [("S", True), ("M", False)]),
        ("Colour", [("White", True), ("Blue", False)]),
    ]


def test_a_product_without_options_has_no_choices(app_context):
    make_store()
    assert option_choices(make_product("Tawa"), {}) == []
