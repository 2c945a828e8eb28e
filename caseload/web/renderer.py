"""The form renderer: Django's, with its select boxes written in Python.

Django renders a ``<select>`` through a template that includes another template for every option
(and a third for each one's attributes): a form with a few selects spent a third of its page's
time there. ``FormRenderer`` writes the same HTML, character for character, for the select and
select-multiple widgets whose options use Django's own option template; anything else (a widget
with its own templates) goes through the templates as before. ``caseload.web.tests.test_renderer``
holds the two to the same output.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the value as text, escaped unless it was marked safe."""
    text = "%s" % (value,)  # noqa: UP031 (the filter's own formatting)
    return text if isinstance(value, SafeData) else str(escape(text))


def _shown(value: Any) -> str:
    """``{{ value }}``: localised as a template shows a value, then escaped."""
    return str(conditional_escape(str(localize(template_localtime(value)))))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    return "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def render_select(widget: dict[str, Any]) -> str:
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>{_shown(option["label"])}</option>\n'
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _plain_select(template_name: str, context: dict[str, Any]) -> bool:
    widget = context.get("widget")
    if template_name != SELECT_TEMPLATE or not isinstance(widget, dict) or "optgroups" not in widget:
        return False
    return all(
        option.get("template_name") == OPTION_TEMPLATE for _name, options, _index in widget["optgroups"] for option in options
    )


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if _plain_select(template_name, context):
            return render_select(context["widget"])
        return super().render(template_name, context, request=request)
