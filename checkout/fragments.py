"""Render one block of a template: a page and the HTMX fragment it swaps come from one file.

Only the block's own code runs, so a macro the block uses must be imported inside the block.
"""

from flask import current_app


def render_block(template_name: str, block_name: str, **context) -> str:
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    block = template.blocks[block_name]
    return "".join(block(template.new_context(context)))
