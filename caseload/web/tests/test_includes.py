"""The shared pieces later pages include: form, tabs, dialog, empty state."""

import re

from django import forms
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory


class ContactForm(forms.Form):
    full_name = forms.CharField(label="Full name", help_text="As the client writes it.")
    email = forms.EmailField(label="Email address")
    contact = forms.ChoiceField(label="How to reach them", widget=forms.RadioSelect, choices=[("email", "Email"), ("sms", "SMS")])
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea)
    consent = forms.BooleanField(label="Consents to contact")

    def clean(self):
        if self.cleaned_data.get("full_name") == "Nobody":
            raise forms.ValidationError("This person cannot be contacted.")
        return self.cleaned_data


def render(template: str, **context) -> str:
    request = RequestFactory().get("/clients/1/")
    return render_to_string(template, context, request=request)


def test_the_form_shows_an_error_summary_naming_and_linking_each_field():
    form = ContactForm({"full_name": "", "email": "not-an-email", "contact": "email", "consent": "on"})
    assert not form.is_valid()
    html = render("web/includes/form.html", form=form, submit_label="Save client")
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'role="alert"' in summary
    assert "There are 2 problems with this form" in summary
    assert '<a href="#id_full_name">Full name: This field is required.</a>' in summary
    assert '<a href="#id_email">Email address: Enter a valid email address.</a>' in summary
    assert "Notes" not in summary


def test_the_summary_lists_errors_that_belong_to_no_field():
    form = ContactForm({"full_name": "Nobody", "email": "a@example.org", "contact": "sms", "consent": "on"})
    assert not form.is_valid()
    html = render("web/includes/form.html", form=form)
    assert "There is a problem with this form" in html
    assert "<li>This person cannot be contacted.</li>" in html


def test_each_field_is_labelled_described_and_marked_invalid():
    form = ContactForm({"email": "nope"})
    form.is_valid()
    html = render("web/includes/form.html", form=form)
    assert '<label class="label" for="id_email">Email address <span class="required" aria-hidden="true">*</span></label>' in html
    email_input = re.search(r"<input[^>]*name=\"email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in email_input
    assert 'aria-describedby="id_email_error"' in email_input
    assert 'id="id_email_error"' in html
    name_input = re.search(r"<input[^>]*name=\"full_name\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_full_name_helptext id_full_name_error"' in name_input
    assert 'id="id_full_name_helptext"' in html
    assert "<legend" in html  # the radio group is a fieldset
    assert 'for="id_notes">Notes</label>' in html  # optional: no required marker


def test_an_unbound_form_has_no_summary_and_offers_cancel():
    html = render("web/includes/form.html", form=ContactForm(), submit_label="Register", cancel_url="/clients/")
    assert "error-summary" not in html
    assert ">Register</button>" in html
    assert '<a class="btn" href="/clients/">Cancel</a>' in html
    assert "csrfmiddlewaretoken" in html
    assert "novalidate" in html


def test_tabs_mark_the_current_tab():
    tabs = [{"label": "Overview", "url": "/clients/1/"}, {"label": "Sessions", "url": "/clients/1/sessions/", "count": 3}]
    html = render("web/includes/tabs.html", tabs=tabs, label="Client record")
    assert '<nav class="tabs" aria-label="Client record">' in html
    assert re.search(r'href="/clients/1/"\s+aria-current="page"', html)
    assert not re.search(r'href="/clients/1/sessions/"\s+aria-current', html)
    assert '<span class="tab-count">3</span>' in html


def test_the_dialog_has_a_title_a_form_and_an_opener():
    form = ContactForm({"email": "bad"})
    form.is_valid()
    html = render("web/includes/dialog.html", dialog_id="invite", title="Invite", open_label="Invite staff", dialog_form=form, action="/staff/invite/", submit_label="Send")
    assert 'commandfor="invite" command="show-modal"' in html
    assert '<dialog class="dialog" id="invite" aria-labelledby="invite-title" data-open-on-load>' in html
    assert 'action="/staff/invite/"' in html
    assert 'id="invite-errors"' in html  # its own error summary
    assert 'formmethod="dialog"' in html  # Cancel closes without JavaScript


def test_the_dialog_ignores_the_pages_own_form():
    page_form = ContactForm({"email": "bad"})
    page_form.is_valid()
    html = render("web/includes/dialog.html", dialog_id="archive", title="Archive?", open_label="Archive", form=page_form)
    assert "error-summary" not in html
    assert "data-open-on-load" not in html


def test_the_empty_state_shows_its_action():
    html = Template(
        '{% include "web/includes/empty.html" with icon="users" title="No clients yet" text="Register one." action_url="/new/" action_label="Register" %}'
    ).render(Context({}))
    assert '<h2 class="empty-title">No clients yet</h2>' in html
    assert '<a class="btn btn-primary" href="/new/">Register</a>' in html
    assert "#users" in html
