"""Named catalog errors: a change refused, with a message staff can act on.

Every use case rolls back before raising one; the admin views show it as a form message. The import's
own refusals carry its plan and live beside it in csv_import.py.
"""

from dataclasses import dataclass

# What a unique-constraint race is reported as, by every use case that can lose one.
CONFLICT_MESSAGE = "Someone else changed the catalog at the same moment (a SKU or slug is now taken). Please try again."


class CatalogError(Exception):
    """Base class: a catalog change refused, with a message staff can act on."""

    message = "The catalog change could not be made."

    def __init__(self, message: str | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidValue(CatalogError):
    """One typed value (a price, a SKU, an options list…) cannot be used."""


class InvalidImage(CatalogError):
    """The upload is not a PNG, JPEG or WebP image of at most IMAGE_MAX_BYTES."""


@dataclass(frozen=True)
class FieldError:
    field: str  # a ProductDraft field name, or a VariantDraft one when variant_index is set; "form" for the whole
    message: str
    variant_index: int | None = None


class ProductRejected(CatalogError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__(" ".join(error.message for error in errors))


class StockAdjustmentRefused(CatalogError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)
