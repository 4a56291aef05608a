"""The storefront's colour language, read from the style sheet itself: every primary action in the brand
colour, the WhatsApp hand-off in WhatsApp's green, both readable (WCAG 2 contrast of at least 4.5:1)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP_CSS = (ROOT / "static" / "css" / "shop.css").read_text()
AA_NORMAL_TEXT = 4.5


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def custom_property(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})\b", SHOP_CSS)[1]


def declarations(selector: str) -> str:
    """Every declaration block whose selector list includes `selector`, joined."""
    blocks = re.findall(r"([^{}]+)\{([^}]*)\}", SHOP_CSS)
    return " ".join(body for selectors, body in blocks if selector in [s.strip() for s in selectors.split(",")])


def test_the_contrast_formula_matches_known_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#128c4a", "#ffffff") == pytest.approx(4.31, abs=0.01)  # the old green: too light


@pytest.mark.parametrize("button, colour", [(".button.whatsapp", "whatsapp"), (".button.primary", "brand")])
def test_action_buttons_use_their_colour_with_white_text_readably(button, colour):
    style = declarations(button)
    assert f"background: var(--{colour})" in style and "color: #fff" in style
    assert contrast_ratio("#ffffff", custom_property(colour)) >= AA_NORMAL_TEXT


def test_the_whatsapp_button_is_whatsapp_teal_and_hover_states_stay_readable():
    assert custom_property("whatsapp").lower() == "#008069"  # WhatsApp's own teal green
    for selector in (".button.whatsapp:hover", ".button.primary:hover"):
        hover = re.search(r"background:\s*(#[0-9a-fA-F]{6})", declarations(selector))[1]
        assert contrast_ratio("#ffffff", hover) >= AA_NORMAL_TEXT


def test_every_storefront_call_to_action_is_a_primary_or_whatsapp_button():
    # The one big action of each page: one colour for "go on", WhatsApp's for "open WhatsApp".
    templates = ROOT / "templates"
    actions = {
        "storefront/_product.html": "Add to cart",
        "storefront/_cart_totals.html": "Checkout",  # the cart page's checkout bar
        "storefront/checkout.html": "Place order",
        "error.html": "Back to the shop",
    }
    for name, label in actions.items():
        tag = re.search(rf"<(a|button)\b[^>]*>[^<]*{label}", (templates / name).read_text())
        assert tag and "primary" in tag[0], name
    assert '"storefront/_cart_totals.html"' in (templates / "storefront" / "cart.html").read_text()
    handoff = (templates / "storefront" / "handoff.html").read_text()
    assert re.search(
        r'class="button whatsapp[^"]*"[^>]*><img class="whatsapp-logo" src="[^"]*whatsapp\.svg[^"]*"', handoff
    )
