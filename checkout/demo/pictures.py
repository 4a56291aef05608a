"""Draw the demo shop's product pictures: flat illustrations made here (no third-party artwork).

Each picture is an SVG drawn below, rasterised by Chromium (the one the browser tests use) into WebP at
every width in WIDTHS, as static/demo/<slug>-<width>w.webp. Run it again after changing a drawing:

    .venv/bin/python -m checkout.demo.pictures
"""

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "static" / "demo"
WIDTHS = (200, 340, 480, 800)
QUALITY = 0.2  # flat drawings: lower costs no visible detail, and a catalog page loads a dozen of them
CHROMIUM = "/usr/bin/chromium"

BACKGROUND = {"clothing": "#fde7d9", "kitchen": "#e3ecf3", "tea-spices": "#f6ecd0", "home": "#e6efe2"}
SHADOW = '<ellipse cx="200" cy="262" rx="120" ry="14" fill="#000" opacity=".08"/>'


def tunic(body: str, trim: str, sleeves: str = "long") -> str:
    sleeve = (
        "M150 70 L95 95 L80 190 L108 196 L125 120 Z M250 70 L305 95 L320 190 L292 196 L275 120 Z"
        if sleeves == "long"
        else "M150 70 L105 90 L92 135 L125 142 L135 110 Z M250 70 L295 90 L308 135 L275 142 L265 110 Z"
    )
    return (
        f'<path d="{sleeve}" fill="{body}"/>'
        f'<path d="M150 62 L178 56 Q200 80 222 56 L250 62 L268 255 L132 255 Z" fill="{body}"/>'
        f'<path d="M178 56 Q200 80 222 56 L214 56 Q200 70 186 56 Z" fill="{trim}"/>'
        f'<path d="M199 72 L199 130" stroke="{trim}" stroke-width="4"/>'
        f'<path d="M134 238 L266 238" stroke="{trim}" stroke-width="8"/>'
    )


def kurta() -> str:
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="5" fill="#c2410c"/>' for x in range(160, 250, 22) for y in range(110, 230, 30)
    )
    return SHADOW + tunic("#fff7ed", "#c2410c") + dots


def linen_shirt() -> str:
    buttons = "".join(f'<circle cx="200" cy="{y}" r="3.5" fill="#1e3a8a"/>' for y in range(95, 240, 28))
    collar = '<path d="M172 58 L200 88 L186 100 L162 66 Z M228 58 L200 88 L214 100 L238 66 Z" fill="#dbeafe"/>'
    return SHADOW + tunic("#bfdbfe", "#93c5fd") + collar + buttons


def dupatta() -> str:
    return (
        SHADOW + '<path d="M90 60 Q200 20 310 60 L290 250 Q200 215 110 250 Z" fill="#881337"/>'
        '<path d="M110 250 Q200 215 290 250 L287 232 Q200 198 113 232 Z" fill="#eab308"/>'
        '<path d="M90 60 Q200 20 310 60 L308 78 Q200 40 92 78 Z" fill="#eab308"/>'
        + "".join(f'<circle cx="{x}" cy="150" r="6" fill="#fbbf24"/>' for x in range(135, 280, 30))
    )


def kids_tee() -> str:
    return (
        SHADOW
        + tunic("#fde047", "#f97316", sleeves="short").replace("255", "215")
        + '<circle cx="200" cy="150" r="26" fill="#f97316"/><circle cx="191" cy="144" r="4" fill="#fff"/>'
        '<circle cx="209" cy="144" r="4" fill="#fff"/><path d="M188 158 Q200 168 212 158" stroke="#fff" '
        'stroke-width="4" fill="none"/>'
    )


def shawl() -> str:
    stripes = "".join(
        f'<rect x="{x}" y="70" width="8" height="170" fill="#a16207" opacity=".35"/>' for x in range(110, 290, 24)
    )
    fringe = "".join(f'<path d="M{x} 240 L{x} 258" stroke="#78350f" stroke-width="3"/>' for x in range(102, 300, 9))
    return SHADOW + '<rect x="100" y="70" width="200" height="170" rx="6" fill="#d6b98c"/>' + stripes + fringe


def tumblers() -> str:
    cups = "".join(
        f'<path d="M{x} 110 L{x + 56} 110 L{x + 48} 250 L{x + 8} 250 Z" fill="#d4a017"/>'
        f'<ellipse cx="{x + 28}" cy="110" rx="28" ry="8" fill="#fde68a"/>'
        f'<path d="M{x + 12} 130 L{x + 16} 235" stroke="#fff" stroke-width="5" opacity=".45"/>'
        for x in (78, 142, 206, 270)
    )
    return SHADOW + cups


def tawa() -> str:
    return (
        SHADOW + '<rect x="262" y="150" width="110" height="18" rx="9" fill="#92400e"/>'
        '<ellipse cx="180" cy="170" rx="120" ry="70" fill="#1f2937"/>'
        '<ellipse cx="180" cy="163" rx="100" ry="54" fill="#374151"/>'
        '<ellipse cx="150" cy="150" rx="40" ry="14" fill="#4b5563"/>'
    )


def tiffin() -> str:
    tiers = "".join(
        f'<rect x="130" y="{y}" width="140" height="52" rx="10" fill="#cbd5e1"/>'
        f'<rect x="130" y="{y + 40}" width="140" height="8" fill="#94a3b8"/>'
        for y in (95, 150, 205)
    )
    return (
        SHADOW
        + '<path d="M150 100 L150 50 Q200 20 250 50 L250 100" stroke="#64748b" stroke-width="10" fill="none"/>'
        + tiers
        + '<rect x="150" y="100" width="12" height="150" fill="#fff" opacity=".35"/>'
    )


def spice_box() -> str:
    colours = ["#dc2626", "#facc15", "#a16207", "#ea580c", "#65a30d", "#7c2d12", "#fef3c7"]
    spots = [(200, 150), (200, 95), (200, 205), (152, 122), (248, 122), (152, 178), (248, 178)]
    bowls = "".join(
        f'<circle cx="{x}" cy="{y}" r="25" fill="#e7e5e4"/><circle cx="{x}" cy="{y}" r="19" fill="{c}"/>'
        for (x, y), c in zip(spots, colours, strict=True)
    )
    return (
        SHADOW
        + '<circle cx="200" cy="150" r="100" fill="#7c3f1d"/><circle cx="200" cy="150" r="90" fill="#9a5a2f"/>'
        + bowls
    )


def copper_bottle() -> str:
    return (
        SHADOW + '<rect x="184" y="30" width="32" height="26" rx="6" fill="#7c2d12"/>'
        '<path d="M178 56 L222 56 L222 75 Q250 90 250 120 L250 240 Q250 256 234 256 L166 256 Q150 256 150 240 '
        'L150 120 Q150 90 178 75 Z" fill="#c2703d"/>'
        '<rect x="166" y="110" width="12" height="130" rx="6" fill="#fbd3b0" opacity=".6"/>'
        '<path d="M150 160 L250 160 M150 200 L250 200" stroke="#9a3412" stroke-width="4"/>'
    )


def tea_pack(colour: str, label: str) -> str:
    return (
        SHADOW + f'<path d="M135 60 L265 60 L275 255 L125 255 Z" fill="{colour}"/>'
        '<path d="M135 60 L265 60 L262 80 L138 80 Z" fill="#000" opacity=".15"/>'
        '<rect x="150" y="120" width="100" height="90" rx="8" fill="#fffbeb"/>'
        f'<path d="M200 135 Q230 160 200 195 Q170 160 200 135 Z" fill="{label}"/>'
        f'<path d="M200 140 L200 190" stroke="#fffbeb" stroke-width="3"/>'
    )


def darjeeling() -> str:
    leaves = "".join(
        f'<path d="M{x} {y} q18 -22 36 0 q-18 22 -36 0 Z" fill="#65a30d" transform="rotate({r} {x} {y})"/>'
        for x, y, r in ((240, 95, -20), (270, 120, 25), (255, 70, 10))
    )
    return (
        SHADOW + '<path d="M110 140 L250 140 L238 240 Q235 256 219 256 L141 256 Q125 256 122 240 Z" fill="#fff"/>'
        '<ellipse cx="180" cy="142" rx="70" ry="12" fill="#d97706"/>'
        '<path d="M248 165 Q292 170 276 205 Q266 225 240 222" stroke="#fff" stroke-width="12" fill="none"/>' + leaves
    )


def masala_jar() -> str:
    return (
        SHADOW + '<rect x="140" y="60" width="120" height="32" rx="6" fill="#b91c1c"/>'
        '<rect x="130" y="92" width="140" height="164" rx="18" fill="#fef3c7" opacity=".9"/>'
        '<path d="M138 140 Q200 120 262 140 L262 240 Q262 250 252 250 L148 250 Q138 250 138 240 Z" fill="#92400e"/>'
        '<rect x="155" y="160" width="90" height="50" rx="6" fill="#fffbeb"/>'
        '<path d="M170 185 L230 185" stroke="#b91c1c" stroke-width="6"/>'
    )


def saffron() -> str:
    threads = "".join(
        f'<path d="M{150 + i * 11} 200 q{10 - i * 2} -50 {(-1) ** i * 18} -95" stroke="#dc2626" stroke-width="4" '
        'fill="none" stroke-linecap="round"/>'
        for i in range(9)
    )
    return (
        SHADOW + '<ellipse cx="200" cy="235" rx="95" ry="22" fill="#f1f5f9"/>'
        '<ellipse cx="200" cy="230" rx="80" ry="14" fill="#e2e8f0"/>' + threads
    )


def chai() -> str:
    spices = (
        '<circle cx="290" cy="225" r="9" fill="#65a30d"/><circle cx="308" cy="238" r="8" fill="#84cc16"/>'
        '<path d="M90 230 l30 -14 l4 8 l-30 14 Z" fill="#92400e"/>'
        '<path d="M280 110 l6 14 l14 2 l-10 10 l3 14 l-13 -7 l-13 7 l3 -14 l-10 -10 l14 -2 Z" fill="#7c2d12"/>'
    )
    return (
        SHADOW + '<path d="M140 120 L260 120 L248 240 Q246 256 230 256 L170 256 Q154 256 152 240 Z" fill="#fde68a"/>'
        '<ellipse cx="200" cy="122" rx="60" ry="10" fill="#b45309"/>'
        '<path d="M180 100 q-12 -20 0 -40 M210 100 q-12 -20 0 -40" stroke="#a8a29e" stroke-width="4" fill="none"/>'
        + spices
    )


def cushion() -> str:
    pattern = "".join(
        f'<circle cx="{x}" cy="{y}" r="12" fill="none" stroke="#fff" stroke-width="4"/>'
        for x in range(140, 270, 40)
        for y in range(100, 220, 40)
    )
    return (
        SHADOW
        + '<path d="M100 60 Q200 80 300 60 Q285 155 300 250 Q200 230 100 250 Q115 155 100 60 Z" fill="#3730a3"/>'
        + pattern
    )


def diyas() -> str:
    lamp = (
        '<path d="M{x} 210 Q{c} 260 {e} 210 Z" fill="#c2410c"/>'
        '<path d="M{x} 210 L{e} 210" stroke="#fbbf24" stroke-width="5"/>'
        '<path d="M{c} 204 Q{l} 180 {c} 160 Q{r} 180 {c} 204 Z" fill="#f59e0b"/>'
        '<path d="M{c} 200 Q{l2} 185 {c} 175 Q{r2} 185 {c} 200 Z" fill="#fde047"/>'
    )
    return SHADOW + "".join(
        lamp.format(x=x, c=x + 35, e=x + 70, l=x + 22, r=x + 48, l2=x + 29, r2=x + 41) for x in (80, 165, 250)
    )


def rug() -> str:
    rows = "".join(
        f'<path d="M90 {y} L310 {y}" stroke="#a16207" stroke-width="3" opacity=".6"/>' for y in range(85, 240, 14)
    )
    fringe = "".join(
        f'<path d="M{x} 70 L{x} 58 M{x} 245 L{x} 257" stroke="#a16207" stroke-width="3"/>' for x in range(94, 310, 10)
    )
    return (
        SHADOW
        + '<rect x="90" y="70" width="220" height="175" rx="10" fill="#d6a85c"/>'
        + rows
        + fringe
        + ('<rect x="140" y="115" width="120" height="85" rx="8" fill="none" stroke="#7c2d12" stroke-width="6"/>')
    )


def wall_hook() -> str:
    feathers = "".join(
        f'<circle cx="{200 + dx}" cy="{110 + dy}" r="11" fill="#d4a017"/><circle cx="{200 + dx}" cy="{110 + dy}" r="4" fill="#0f766e"/>'
        for dx, dy in ((-50, -10), (-30, -42), (0, -55), (30, -42), (50, -10))
    )
    return (
        '<rect x="0" y="0" width="400" height="300" fill="#000" opacity=".03"/>'
        + feathers
        + '<path d="M200 120 Q180 150 195 180 L195 235 Q195 262 225 255" stroke="#b7791f" stroke-width="12" '
        'fill="none" stroke-linecap="round"/><circle cx="200" cy="118" r="16" fill="#b7791f"/>'
        '<circle cx="205" cy="114" r="3" fill="#1f2937"/>'
    )


def basket() -> str:
    weave = "".join(
        f'<path d="M{x} 120 L{x + 8} 250" stroke="#a16207" stroke-width="3" opacity=".5"/>' for x in range(122, 280, 16)
    )
    bands = "".join(
        f'<path d="M112 {y} L288 {y}" stroke="#a16207" stroke-width="3" opacity=".5"/>' for y in range(140, 250, 20)
    )
    return (
        SHADOW
        + '<path d="M140 120 Q140 70 170 70 M260 120 Q260 70 230 70" stroke="#78350f" stroke-width="8" fill="none"/>'
        '<path d="M105 120 L295 120 L275 250 Q273 256 265 256 L135 256 Q127 256 125 250 Z" fill="#d9b46a"/>'
        + weave
        + bands
        + '<rect x="100" y="112" width="200" height="14" rx="7" fill="#b7791f"/>'
    )


# slug of each demo product (as checkout/demo/store.py makes it) → (category, drawing)
DRAWINGS = {
    "cotton-kurta": ("clothing", kurta),
    "linen-shirt": ("clothing", linen_shirt),
    "silk-dupatta": ("clothing", dupatta),
    "kids-cotton-t-shirt": ("clothing", kids_tee),
    "pashmina-shawl": ("clothing", shawl),
    "brass-tumbler-set": ("kitchen", tumblers),
    "cast-iron-tawa": ("kitchen", tawa),
    "steel-tiffin-box": ("kitchen", tiffin),
    "wooden-spice-box": ("kitchen", spice_box),
    "copper-water-bottle": ("kitchen", copper_bottle),
    "assam-tea": ("tea-spices", lambda: tea_pack("#166534", "#65a30d")),
    "darjeeling-first-flush": ("tea-spices", darjeeling),
    "garam-masala": ("tea-spices", masala_jar),
    "kashmiri-saffron": ("tea-spices", saffron),
    "masala-chai-mix": ("tea-spices", chai),
    "block-print-cushion-cover": ("home", cushion),
    "terracotta-diya-set": ("home", diyas),
    "jute-rug": ("home", rug),
    "brass-wall-hook": ("home", wall_hook),
    "handwoven-basket": ("home", basket),
}


def svg_for(category: str, drawing) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">'
        f'<rect width="400" height="300" fill="{BACKGROUND[category]}"/>{drawing()}</svg>'
    )


RASTERISE = """async ([svg, widths, quality]) => {
  const image = new Image();
  image.src = 'data:image/svg+xml;base64,' + btoa(svg);
  await image.decode();
  return widths.map((width) => {
    const canvas = document.createElement('canvas');
    canvas.width = width; canvas.height = width * 3 / 4;
    canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/webp', quality);
  });
}"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for slug, (category, drawing) in DRAWINGS.items():
            urls = page.evaluate(RASTERISE, [svg_for(category, drawing), list(WIDTHS), QUALITY])
            for width, url in zip(WIDTHS, urls, strict=True):
                assert url.startswith("data:image/webp;base64,"), "this Chromium cannot encode WebP"
                (OUT / f"{slug}-{width}w.webp").write_bytes(base64.b64decode(url.split(",", 1)[1]))
        browser.close()


if __name__ == "__main__":
    main()
