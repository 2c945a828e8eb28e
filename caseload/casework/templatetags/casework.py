"""Template filters of the casework pages: ``{% load casework %}``."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from caseload.casework.markdown import render_markdown

register = template.Library()


@register.filter(is_safe=True)
def markdown(value: str | None) -> SafeString:
    """A note's Markdown as sanitised HTML: ``{{ note.body|markdown }}``."""
    return mark_safe(render_markdown(value))  # noqa: S308 - sanitised by nh3 in render_markdown
