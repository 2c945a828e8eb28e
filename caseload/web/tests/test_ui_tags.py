"""The ui tags: a select's options rendered in Python (escaped, the chosen one selected), and the icons' sprite URL."""

from __future__ import annotations

from django.template import Context, Template
from django.utils.translation import gettext_lazy, override

TEMPLATE = Template("{% load ui %}{% options choices selected %}")


def render(choices, selected=None) -> str:
    return TEMPLATE.render(Context({"choices": choices, "selected": selected}))


def test_each_choice_is_an_option_and_the_chosen_one_is_selected():
    html = render([("", "Anyone"), ("me", "Me"), ("12", "Amina Yusuf")], "12")
    assert html == (
        '<option value="">Anyone</option><option value="me">Me</option><option value="12" selected>Amina Yusuf</option>'
    )


def test_values_are_compared_as_text_and_nothing_is_selected_without_a_choice():
    # A program's pk (an int) against the submitted "7"; None chooses nothing, not the empty "Anyone".
    assert 'value="7" selected' in render([(3, "Intake"), (7, "Youth")], "7")
    assert "selected" not in render([("", "Anyone"), ("me", "Me")], None)
    assert "selected" not in render([("", "Anyone"), ("me", "Me")], "someone else")


def test_values_and_labels_are_escaped():
    html = render([('"><script>alert(1)</script>', "<b>O'Brien & Sons</b>")])
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;O&#x27;Brien &amp; Sons&lt;/b&gt;" in html
    assert 'value="&quot;&gt;&lt;script&gt;' in html


def test_lazy_labels_are_translated_in_the_active_language():
    with override("fr"):
        assert render([("", gettext_lazy("Anyone"))]) == '<option value="">Tout le monde</option>'


def test_icons_use_the_sprite_url_of_the_static_storage_in_use(settings):
    icon = Template('{% load ui %}{% icon "search" %}')
    assert '<use href="/static/web/icons.svg#search">' in icon.render(Context())
    settings.STATIC_URL = "/assets/"
    assert '<use href="/assets/web/icons.svg#search">' in icon.render(Context())
