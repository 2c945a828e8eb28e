"""Case note Markdown to safe HTML: markdown-it-py (CommonMark), then nh3 (ammonia) to sanitise.

Two locks: markdown-it-py runs with raw HTML off (``<b>`` in a note shows as text) and refuses
``javascript:`` links itself; nh3 then keeps only a small allow-list of tags and attributes and
the http(s), mailto and tel URL schemes, and marks every link ``rel="noopener noreferrer nofollow"``.
Headings move down three levels (``#`` becomes ``<h4>``) so a note never outranks the page's own
headings.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
LINK_REL = "noopener noreferrer nofollow"
HEADING_SHIFT = 3


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

    def heading(self, tokens, idx, options, env):
        token = tokens[idx]
        level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
        token.tag = f"h{level}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", heading)
    md.add_render_rule("heading_close", heading)
    return md


def render_markdown(text: str | None) -> str:
    """Safe HTML for ``text`` (a note's Markdown); "" for nothing."""
    if not text:
        return ""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()
