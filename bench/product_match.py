"""How many WhatsApp messages per second product matching reads against a 2,000-product catalog.

`python -m bench.product_match [--products 2000] [--seconds 3]`. Pure Python, no database: the catalog is
made up from Indian-shop words, the messages mix Hinglish filler, typos and SKUs, as customers write them.
"""

import argparse
import itertools
import random
import time

from checkout.whatsapp.product_match import Candidate, rank_products

ADJECTIVES = [
    "cotton",
    "silk",
    "linen",
    "brass",
    "copper",
    "steel",
    "wooden",
    "jute",
    "clay",
    "marble",
    "handwoven",
    "printed",
    "kids",
    "organic",
]
THINGS = [
    "kurta",
    "kurti",
    "saree",
    "dupatta",
    "shawl",
    "shirt",
    "tumbler",
    "tawa",
    "kadai",
    "tiffin",
    "bottle",
    "diya",
    "rug",
    "basket",
    "hook",
    "cushion",
    "tea",
    "chai",
    "masala",
    "saffron",
    "pickle",
    "honey",
    "ghee",
    "soap",
    "candle",
    "lamp",
    "mat",
    "bowl",
    "plate",
    "spoon",
    "bag",
    "wallet",
]
CATEGORIES = ["Clothing", "Kitchen", "Tea & Spices", "Home & Decor", "Bath", "Gifts"]
MESSAGES = [
    "mujhe chai chahiye",
    "masala tea",
    "kurti",
    "tawaa",
    "i want a copper botle",
    "SKU-1234",
    "bhaiya 2 silk saree bhejna",
    "quero pedir um tapete de juta",
    "nataka chai tafadhali",
    "do you have handwoven baskets?",
]


def catalog(size: int, seed: int = 7) -> tuple[Candidate, ...]:
    chooser = random.Random(seed)
    names = itertools.product(ADJECTIVES, THINGS, range(size))
    return tuple(
        Candidate(
            product_id=number,
            name=f"{adjective.title()} {thing.title()} {variant}",
            sku=f"SKU-{number}",
            category=chooser.choice(CATEGORIES),
            keywords=", ".join(chooser.sample(THINGS, 3)),
            variant_skus=(f"SKU-{number}-A", f"SKU-{number}-B"),
            variant_ids=(number * 2, number * 2 + 1),
            available=chooser.randint(0, 20),
            lowest_price_minor=chooser.randint(100, 5000) * 100,
        )
        for number, (adjective, thing, variant) in zip(range(1, size + 1), names, strict=False)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    products = catalog(arguments.products)
    started = time.perf_counter()
    rank_products("warm up", products)
    print(f"index of {len(products)} products built in {(time.perf_counter() - started) * 1000:.0f} ms")
    matched, started = 0, time.perf_counter()
    while time.perf_counter() - started < arguments.seconds:
        for message in MESSAGES:
            rank_products(message, products)
            matched += 1
    elapsed = time.perf_counter() - started
    print(f"{matched / elapsed:.0f} matches per second ({matched} messages in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
