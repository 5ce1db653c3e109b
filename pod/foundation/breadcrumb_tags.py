"""`{% page_title %}`: the page's own title (its `title` block) as text, for the last crumb of the
breadcrumb trail that base.html draws on every page below a home page (issue 13: breadcrumbs
are consistent). One source for both: the trail's last crumb cannot drift from the <title>.
"""

from __future__ import annotations

from django import template
from django.template.base import Node
from django.template.context import Context
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext
from django.utils.html import strip_tags

register = template.Library()


class PageTitleNode(Node):
    def render(self, context: Context) -> str:
        """The most-derived `title` block rendered with the current context, tags stripped and
        whitespace collapsed; "" outside a template that extends another (no block context)."""
        blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
        if not isinstance(blocks, BlockContext):
            return ""
        node = blocks.get_block("title")
        if node is None:
            return ""
        with context.push(block=node):
            text = node.nodelist.render(context)
        return " ".join(strip_tags(str(text)).split())


@register.tag
def page_title(parser, token) -> PageTitleNode:
    return PageTitleNode()
