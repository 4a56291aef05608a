"""The demo store: a small Indian shop with a realistic catalog, so `make run` shows something real."""

from checkout.catalog.stock import change_on_hand
from checkout.extensions import db
from checkout.models import Category, Product, ProductKind, ProductStatus, Variant, get_store_settings

CATEGORIES = [
    ("clothing", "Clothing"),
    ("kitchen", "Kitchen"),
    ("tea-spices", "Tea & Spices"),
    ("home", "Home & Decor"),
]
# Drawn for the demo by checkout/demo/pictures.py (`python -m checkout.demo.pictures`); the other widths beside it make the srcset.
PICTURE_URL = "/static/demo/{slug}-480w.webp"
LOGO_URL = "/static/demo/sunrise-bazaar-logo.svg"

# (category, name, sku, description, price in rupees, options {name: [values]} or None, stock per variant)
PRODUCTS = [
    (
        "clothing",
        "Cotton Kurta",
        "KUR",
        "Hand-block printed cotton kurta, breathable and soft.",
        799,
        {"Size": ["S", "M", "L", "XL"]},
        6,
    ),
    (
        "clothing",
        "Linen Shirt",
        "LSH",
        "Relaxed-fit linen shirt for hot days.",
        1199,
        {"Size": ["M", "L"], "Colour": ["White", "Sky Blue"]},
        4,
    ),
    (
        "clothing",
        "Silk Dupatta",
        "DUP",
        "Banarasi silk dupatta with zari border.",
        1499,
        {"Colour": ["Maroon", "Gold"]},
        3,
    ),
    (
        "clothing",
        "Kids' Cotton T-shirt",
        "KTS",
        "Soft cotton tee for ages 4-10.",
        349,
        {"Size": ["4-6", "6-8", "8-10"]},
        10,
    ),
    ("clothing", "Pashmina Shawl", "PSH", "Fine wool shawl, woven in Kashmir.", 3499, None, 0),
    ("kitchen", "Brass Tumbler Set", "BTS", "Set of 4 hand-polished brass tumblers.", 1299, None, 8),
    ("kitchen", "Cast Iron Tawa", "TAW", "Pre-seasoned 28 cm cast iron tawa.", 899, None, 12),
    ("kitchen", "Steel Tiffin Box", "TIF", "Three-tier stainless steel lunch box.", 549, {"Tiers": ["2", "3"]}, 9),
    ("kitchen", "Wooden Spice Box", "MAS", "Sheesham wood masala dabba with 7 bowls.", 1099, None, 0),
    ("kitchen", "Copper Water Bottle", "CWB", "1 litre pure copper bottle.", 749, None, 15),
    (
        "tea-spices",
        "Assam Tea",
        "AST",
        "Strong, malty CTC tea from Assam estates.",
        240,
        {"Pack": ["250 g", "500 g", "1 kg"]},
        25,
    ),
    (
        "tea-spices",
        "Darjeeling First Flush",
        "DFF",
        "Delicate, floral whole-leaf tea.",
        650,
        {"Pack": ["100 g", "250 g"]},
        7,
    ),
    ("tea-spices", "Garam Masala", "GAR", "Small-batch roasted and ground blend.", 180, None, 30),
    ("tea-spices", "Kashmiri Saffron", "SAF", "Grade A1 saffron threads, 1 g.", 499, None, 2),
    ("tea-spices", "Masala Chai Mix", "CHA", "Cardamom, ginger, clove and cinnamon blend.", 220, None, 0),
    (
        "home",
        "Block-print Cushion Cover",
        "CUS",
        "Cotton cushion cover, 40 × 40 cm.",
        399,
        {"Colour": ["Indigo", "Rust", "Mustard"]},
        8,
    ),
    ("home", "Terracotta Diya Set", "DIY", "Set of 12 hand-painted clay lamps.", 299, None, 40),
    (
        "home",
        "Jute Rug",
        "JUT",
        "Braided jute rug for living rooms.",
        1899,
        {"Size": ["90 × 150 cm", "120 × 180 cm"]},
        3,
    ),
    ("home", "Brass Wall Hook", "HOK", "Peacock-shaped brass hook.", 449, None, 14),
    ("home", "Handwoven Basket", "BAS", "Seagrass storage basket with handles.", 649, None, 5),
]
DRAFT_PRODUCT = ("home", "Marble Coaster Set", "MCS", "Coming soon.", 999, None, 10)
# A service: time with the shop in the WhatsApp chat, paid by the session (checkout/service_sessions.py); no
# picture and no stock. (category, name, sku, description, price in rupees, minutes)
SERVICE_PRODUCT = (
    "home",
    "Vastu Decor Consultation",
    "VDC",
    "Half an hour in this WhatsApp chat with our decor adviser: send photos of your room and get ideas for "
    "colours, placement and what suits it. The time starts with our first reply.",
    499,
    30,
)
# Words customers type in WhatsApp for these products, English, Hinglish and Hindi alike ("mujhe chai chahiye").
KEYWORDS = {
    "KUR": "kurta, kurti, kurtha, कुर्ता",
    "LSH": "shirt, kameez",
    "DUP": "dupatta, chunni, odhni, दुपट्टा",
    "KTS": "tshirt, tee, kids, bachon ke kapde",
    "PSH": "shawl, pashmina, shaal, शॉल",
    "BTS": "glass, gilas, tumbler, pital",
    "TAW": "tawa, tava, roti pan, तवा",
    "TIF": "tiffin, dabba, lunch box, टिफिन",
    "MAS": "masala dabba, spice box, मसाला",
    "CWB": "bottle, copper, tamba, tambe ki bottle",
    "AST": "chai, chai patti, tea, assam, चाय",
    "DFF": "chai, tea, darjeeling, green tea, चाय",
    "GAR": "masala, garam masala, मसाला",
    "SAF": "kesar, zafran, saffron, केसर",
    "CHA": "chai, masala chai, chai masala, tea, चाय",
    "CUS": "cushion, cover, takiya, गद्दी",
    "DIY": "diya, diye, deepak, diwali, दीया",
    "JUT": "rug, carpet, dari, durrie",
    "HOK": "hook, khunti",
    "BAS": "basket, tokri, टोकरी",
    "VDC": "vastu, consultation, decor advice, salah, सलाह",
}


def _price_for(base_rupees: int, index: int) -> int:
    """Bigger variants cost a bit more, as they would in a real shop (paise)."""
    return (base_rupees + index * 100) * 100


def seed_demo_store() -> None:
    settings = get_store_settings()
    settings.name = "Sunrise Bazaar"
    settings.tagline = "Handmade goods from across India, delivered to your door"
    settings.whatsapp_number = "+919876543210"
    settings.currency = "INR"
    settings.locale = "en_IN"
    settings.default_region = "IN"
    settings.delivery_fee_minor = 5000
    settings.free_delivery_threshold_minor = 150000
    settings.pickup_enabled = True
    settings.pickup_address = "Shop 4, Linking Road, Bandra West, Mumbai"
    settings.payment_methods = ["cod", "transfer"]
    settings.logo_url = LOGO_URL
    settings.address = "Shop 4, Linking Road\nBandra West, Mumbai 400050"
    settings.delivery_policy = (
        "We deliver across India in 3–7 working days. Delivery is free on orders over ₹1,500; "
        "Mumbai orders can also be picked up from the shop."
    )
    settings.returns_policy = (
        "Unused items can be returned within 7 days of delivery: message us on WhatsApp with your order "
        "number and we arrange the pickup. Food items cannot be returned once opened."
    )

    categories = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        categories[slug] = Category(slug=slug, name=name, position=position)
        db.session.add(categories[slug])

    for row in PRODUCTS + [DRAFT_PRODUCT]:
        category, name, sku, description, price, options, stock = row
        slug = name.lower().replace("'", "").replace(" ", "-")
        product = Product(
            name=name,
            slug=slug,
            sku=sku,
            description=description,
            # The draft has no picture yet: the shop shows its "no photo" tile.
            image_url="" if row is DRAFT_PRODUCT else PICTURE_URL.format(slug=slug),
            category=categories[category],
            keywords=KEYWORDS.get(sku, ""),
            status=ProductStatus.DRAFT if row is DRAFT_PRODUCT else ProductStatus.ACTIVE,
        )
        for index, combination in enumerate(_combinations(options)):
            suffix = "-".join(v.split()[0].upper().replace("×", "X") for v in combination.values())
            product.variants.append(
                Variant(
                    sku=f"{sku}-{suffix}" if suffix else sku,
                    options=combination,
                    price_minor=_price_for(price, index if "Pack" in combination or "Tiers" in combination else 0),
                    stock_on_hand=0,
                    position=index,
                )
            )
        db.session.add(product)
        for variant in product.variants if stock else []:  # opening stock goes through the ledger
            change_on_hand(variant, stock, "Opening stock")
    db.session.add(_service_product(categories))
    db.session.commit()


def _service_product(categories: dict[str, Category]) -> Product:
    category, name, sku, description, price, minutes = SERVICE_PRODUCT
    product = Product(
        name=name,
        slug=name.lower().replace(" ", "-"),
        sku=sku,
        description=description,
        category=categories[category],
        keywords=KEYWORDS[sku],
        status=ProductStatus.ACTIVE,
        kind=ProductKind.SERVICE,
        duration_minutes=minutes,
    )
    product.variants.append(Variant(sku=sku, options={}, price_minor=price * 100, stock_on_hand=0, position=0))
    return product


def _combinations(options: dict[str, list[str]] | None) -> list[dict[str, str]]:
    combos: list[dict[str, str]] = [{}]
    for name, values in (options or {}).items():
        combos = [{**combo, name: value} for combo in combos for value in values]
    return combos
