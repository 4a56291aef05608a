"""The catalog as a CSV file: one row per variant, in the columns the import reads back."""

from checkout.catalog.queries import list_all_products
from checkout.catalog.values import format_options, format_price
from checkout.csv_safety import write_csv

CSV_COLUMNS = (
    "product_sku",
    "product_name",
    "category",
    "status",
    "description",
    "variant_sku",
    "options",
    "price",
    "stock",
    "keywords",
    "kind",
    "duration_minutes",
)
# Columns a file may leave out: files made before they existed keep importing, and change nothing there.
OPTIONAL_CSV_COLUMNS = frozenset({"keywords", "kind", "duration_minutes"})
CSV_OPTIONS_SEPARATOR = "; "


def export_catalog_csv(currency: str) -> str:
    """The whole catalog, one row per variant, every cell safe to open in a spreadsheet."""
    rows = (
        (
            product.sku,
            product.name,
            product.category.name if product.category else "",
            product.status,
            product.description,
            variant.sku,
            format_options(variant.options, CSV_OPTIONS_SEPARATOR),
            format_price(variant.price_minor, currency),
            variant.stock_on_hand,
            product.keywords,
            product.kind,
            product.duration_minutes or "",
        )
        for product in list_all_products()
        for variant in product.variants
    )
    return write_csv(rows, CSV_COLUMNS)
