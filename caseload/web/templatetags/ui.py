"""Small template helpers for the shared UI: icons, initials and which navigation item is current."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def icon(name: str, css_class: str = "") -> str:
    """An icon from the sprite (web/static/web/icons.svg); decorative, hidden from screen readers."""
    classes = f"icon {css_class}".strip()
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        classes,
        static("web/icons.svg"),
        name,
    )


@register.filter
def initials(user) -> str:
    """Up to two initials for an avatar: from the full name, else the email address."""
    name = (getattr(user, "full_name", "") or "").strip()
    if name:
        parts = name.split()
        letters = parts[0][:1] + (parts[-1][:1] if len(parts) > 1 else "")
    else:
        letters = (getattr(user, "email", "") or "?")[:1]
    return letters.upper()


@register.filter
def is_current(path: str, href: str) -> bool:
    """Whether a navigation link points at the current section (the home link only on itself)."""
    if not href:
        return False
    if href == "/":
        return path == "/"
    return path == href or path.startswith(href.rstrip("/") + "/")
