"""Which products a customer's WhatsApp message asks for: "mujhe chai chahiye", "masala tea", "kurti", "KUR-M",
"tawaa" → the shop's active, in-stock products, most relevant first.

Products are found by name, keywords (the other words the shop set, "chai" on the teas), category and SKU,
read the way customer_text reads the message: filler words of every language dropped, spellings folded,
typos forgiven. This lives beside the chat because it interprets chat language; the catalog only lends it
rows. For a 2,000-product catalog the words are indexed once per catalog state (`_index`, cached on the
rows themselves), so a message costs a few dictionary look-ups and edit distances, not a scan.
"""

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import case, func, select

from checkout.catalog.stock import SERVICE_AVAILABLE, open_reservation_filter
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductKind, ProductStatus, Variant
from checkout.models.orders import StockReservation
from checkout.whatsapp.customer_text import (
    content_words,
    spelling_key,
    typos_allowed,
    typos_between,
    words,
)

NAME_WEIGHT = 3.0
KEYWORD_WEIGHT = 3.0
CATEGORY_WEIGHT = 1.5
SKU_SCORE = 10.0  # a SKU typed exactly is what the customer wants, whatever the words say
EXACT, PLURAL, PREFIX, ONE_TYPO, TWO_TYPOS = 1.0, 0.95, 0.8, 0.75, 0.6
PREFIX_FROM_LENGTH = 3  # "kur" finds "kurta"; "ku" finds nothing
PREFIX_KEYS_MAX = 50  # a short prefix may start many words: the first ones (alphabetically) are enough
RELATIVE_FLOOR = 0.34  # a product scoring under a third of the best match is noise ("chair" for "chai" is not)
WORDS_READ_MAX = 12  # a long message is read for its first content words only
_SKU_EDGES = re.compile(r"^[^\w]+|[^\w]+$")


@dataclass(frozen=True)
class Candidate:
    """An active product as the matcher needs it: its words, its SKUs and what can still be sold."""

    product_id: int
    name: str
    sku: str
    category: str = ""
    keywords: str = ""
    variant_skus: tuple[str, ...] = ()
    variant_ids: tuple[int, ...] = ()
    available: int = 0  # units left to sell, over all variants, open reservations taken off
    lowest_price_minor: int = 0
    has_price_range: bool = False
    duration_minutes: int | None = None  # a service's minutes per unit


@dataclass(frozen=True)
class ProductMatch:
    product_id: int
    name: str
    category: str
    score: float
    available: int
    lowest_price_minor: int
    has_price_range: bool
    variant_id: int | None = None  # set when the customer typed one variant's SKU
    duration_minutes: int | None = None  # a service's minutes per unit, shown beside its price


@dataclass(frozen=True)
class _Index:
    weights: dict[str, dict[int, float]]  # spelling key → {candidate position: best field weight}
    sorted_keys: list[str]
    bigrams: dict[str, set[str]]  # padded bigram → keys holding it, to find typo'd words without a scan
    skus: dict[str, tuple[int, int | None]]  # casefolded SKU → (candidate position, variant id or None)


def match_products(text: str) -> list[ProductMatch]:
    """The shop's active, in-stock products the message asks for, most relevant first; [] when none."""
    return rank_products(text, load_candidates())


def load_candidates() -> tuple[Candidate, ...]:
    """Every active product with its words, SKUs, lowest price and units left, in two queries."""
    held = (
        select(StockReservation.variant_id, func.sum(StockReservation.quantity).label("held"))
        .where(*open_reservation_filter(utcnow()))
        .group_by(StockReservation.variant_id)
        .subquery()
    )
    variants = db.session.execute(
        select(
            Variant.product_id,
            Variant.id,
            Variant.sku,
            Variant.price_minor,
            case(
                (Product.kind == ProductKind.SERVICE, SERVICE_AVAILABLE),
                else_=Variant.stock_on_hand - func.coalesce(held.c.held, 0),
            ),
        )
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(held, held.c.variant_id == Variant.id)
        .where(Product.status == ProductStatus.ACTIVE)
        .order_by(Variant.product_id, Variant.position, Variant.id)
    )
    by_product: dict[int, list] = defaultdict(list)
    for product_id, variant_id, sku, price_minor, available in variants:
        by_product[product_id].append((variant_id, sku, price_minor, max(0, int(available))))
    products = db.session.execute(
        select(Product.id, Product.name, Product.sku, Product.keywords, Category.name, Product.duration_minutes)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.status == ProductStatus.ACTIVE)
        .order_by(Product.id)
    )
    return tuple(
        _candidate(product_id, name, sku, keywords, category, by_product.get(product_id, []), duration)
        for product_id, name, sku, keywords, category, duration in products
    )


def _candidate(product_id, name, sku, keywords, category, variants, duration_minutes=None) -> Candidate:
    prices = {price for _id, _sku, price, _available in variants}
    return Candidate(
        product_id=product_id,
        name=name,
        sku=sku,
        category=category or "",
        keywords=keywords or "",
        variant_skus=tuple(variant_sku for _id, variant_sku, _price, _available in variants),
        variant_ids=tuple(variant_id for variant_id, _sku, _price, _available in variants),
        available=sum(available for *_rest, available in variants),
        lowest_price_minor=min(prices, default=0),
        has_price_range=len(prices) > 1,
        duration_minutes=duration_minutes,
    )


def rank_products(text: str, candidates: Sequence[Candidate]) -> list[ProductMatch]:
    """The candidates the text asks for, in stock only, best first (ties by name); [] when nothing matches."""
    candidates = tuple(candidates)
    index = _index(tuple(_searchable(candidate) for candidate in candidates))
    scores: dict[int, float] = defaultdict(float)
    typed_variant: dict[int, int] = {}
    sku_words: set[str] = set()
    for raw in text.split()[: WORDS_READ_MAX * 2]:
        found = index.skus.get(_SKU_EDGES.sub("", raw).casefold())
        if found is not None:
            position, variant_id = found
            scores[position] += SKU_SCORE
            sku_words.update(words(raw))
            if variant_id is not None:
                typed_variant[position] = variant_id
    typed = [word for word in content_words(text) if word not in sku_words][:WORDS_READ_MAX]
    for word in typed:
        for position, score in _word_scores(index, spelling_key(word)).items():
            scores[position] += score
    return _ranked(candidates, scores, typed_variant)


def _word_scores(index: _Index, key: str) -> dict[int, float]:
    """For one typed word: each candidate's best score, over the indexed words it resembles."""
    best: dict[int, float] = {}
    for known, quality in _resembling_keys(index, key).items():
        for position, weight in index.weights[known].items():
            score = quality * weight
            if score > best.get(position, 0.0):
                best[position] = score
    return best


def _resembling_keys(index: _Index, key: str) -> dict[str, float]:
    """Indexed words this one may mean. A word the shop uses itself means just that: "chai" is not "chair"."""
    if key in index.weights:
        return {key: EXACT}
    found: dict[str, float] = {}
    if len(key) > 3 and key.endswith("s") and key[:-1] in index.weights:
        found[key[:-1]] = PLURAL
    if len(key) >= PREFIX_FROM_LENGTH:
        start = bisect_left(index.sorted_keys, key)
        for known in index.sorted_keys[start : start + PREFIX_KEYS_MAX]:
            if not known.startswith(key):
                break
            found.setdefault(known, PREFIX)
    limit = typos_allowed(key)
    if limit:
        for known in _typo_candidates(index, key, limit):
            distance = typos_between(key, known)
            if distance is not None and known not in found:
                found[known] = ONE_TYPO if distance == 1 else TWO_TYPOS
    return found


def _typo_candidates(index: _Index, key: str, limit: int) -> list[str]:
    """Indexed words sharing enough bigrams with `key` to be within `limit` edits (a swap breaks up to three)."""
    shared: dict[str, int] = defaultdict(int)
    for bigram in _bigrams(key):
        for known in index.bigrams.get(bigram, ()):
            shared[known] += 1
    return [
        known
        for known, count in shared.items()
        if abs(len(known) - len(key)) <= limit and count >= max(len(known), len(key)) + 1 - 3 * limit
    ]


def _ranked(candidates: tuple[Candidate, ...], scores: dict[int, float], typed_variant: dict[int, int]):
    in_stock = {position: score for position, score in scores.items() if candidates[position].available > 0}
    if not in_stock:
        return []
    floor = max(in_stock.values()) * RELATIVE_FLOOR
    kept = [position for position, score in in_stock.items() if score >= floor]
    kept.sort(key=lambda position: (-in_stock[position], candidates[position].name.casefold()))
    return [_match(candidates[position], in_stock[position], typed_variant.get(position)) for position in kept]


def _match(candidate: Candidate, score: float, variant_id: int | None) -> ProductMatch:
    return ProductMatch(
        product_id=candidate.product_id,
        name=candidate.name,
        category=candidate.category,
        score=round(score, 3),
        available=candidate.available,
        lowest_price_minor=candidate.lowest_price_minor,
        has_price_range=candidate.has_price_range,
        variant_id=variant_id,
        duration_minutes=candidate.duration_minutes,
    )


def _searchable(candidate: Candidate) -> tuple:
    """What the index is built from: the words and SKUs, not the stock, so a sale does not rebuild it."""
    return (
        candidate.name,
        candidate.keywords,
        candidate.category,
        candidate.sku,
        candidate.variant_skus,
        candidate.variant_ids,
    )


@lru_cache(maxsize=8)
def _index(searchable: tuple[tuple, ...]) -> _Index:
    """The words of every candidate, indexed by position; cached on those words, so a changed catalog builds anew."""
    weights: dict[str, dict[int, float]] = defaultdict(dict)
    skus: dict[str, tuple[int, int | None]] = {}
    for position, (name, keywords, category, sku, variant_skus, variant_ids) in enumerate(searchable):
        for text, weight in ((name, NAME_WEIGHT), (keywords, KEYWORD_WEIGHT), (category, CATEGORY_WEIGHT)):
            for word in words(text):
                key = spelling_key(word)
                if weight > weights[key].get(position, 0.0):
                    weights[key][position] = weight
        skus.setdefault(sku.casefold(), (position, None))
        for variant_sku, variant_id in zip(variant_skus, variant_ids, strict=False):
            skus.setdefault(variant_sku.casefold(), (position, variant_id))
    bigrams: dict[str, set[str]] = defaultdict(set)
    for key in weights:
        for bigram in _bigrams(key):
            bigrams[bigram].add(key)
    return _Index(dict(weights), sorted(weights), dict(bigrams), skus)


def _bigrams(key: str) -> list[str]:
    padded = f"^{key}$"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]
