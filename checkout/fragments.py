"""Render one block of a template: a page and the HTMX fragment it swaps come from one file.

Only the block's own code runs, so a macro the block uses must be imported inside the block.
"""

from flask import current_app, request


def render_block(template_name: str, block_name: str, **context) -> str:
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    block = template.blocks[block_name]
    return "".join(block(template.new_context(context)))


def wants_fragment(target_id: str | None = None) -> bool:
    """Is this an HTMX swap of part of the page (of element `target_id`, if given)?

    Boosted navigation and history restores also carry HX-Request, but they want the whole page.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and (target_id is None or headers.get("HX-Target") == target_id)
    )
