"""A page and the HTMX fragment it swaps come from one template: render the whole page or just one block.

Only the block's own code runs, so a macro the block uses must be imported inside the block.
"""

from collections.abc import Callable

from flask import current_app, render_template, request


def render_block(template_name: str, block_name: str, **context) -> str:
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    block = template.blocks[block_name]
    return "".join(block(template.new_context(context)))


def wants_fragment() -> bool:
    """Is this an HTMX request for part of the page?

    Boosted navigation and history restores also carry HX-Request, but they want the whole page. Which
    element the swap targets never matters: a URL answers every HTMX swap of it with the same block.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_block(
    template_name: str, block_name: str, *, page_only: Callable[[], dict] | None = None, **context
) -> str:
    """The whole page, or only its `block_name` block when HTMX asks for part of the page.

    `page_only` gives what only the rest of the page shows (a form, another query's rows); it is called for
    the whole page alone, so a swap of the block never pays for it.
    """
    if wants_fragment():
        return render_block(template_name, block_name, **context)
    return render_template(template_name, **context, **(page_only() if page_only else {}))
