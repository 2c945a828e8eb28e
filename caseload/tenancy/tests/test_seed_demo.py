import re
from io import StringIO

from django.core.management import call_command

from caseload.accounts.models import User
from caseload.casework.models import CaseNote
from caseload.clients.models import Client
from caseload.tenancy.demo import DEMO_PASSWORD
from caseload.tenancy.models import Agency, Membership
from caseload.tenancy.scoping import all_agencies


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_two_agencies_with_staff_and_fifty_clients_each(db):
    output = seed()
    agencies = list(Agency.objects.order_by("name"))
    assert [a.name for a in agencies] == ["Northside Employment Services", "Riverside Newcomer Centre"]
    with all_agencies():
        for agency in agencies:
            roles = sorted(Membership.objects.filter(agency=agency).values_list("role__name", flat=True))
            assert roles == ["Administrator", "Caseworker", "Caseworker", "Manager"]
            assert Client.objects.filter(agency=agency).count() == 50
    assert "admin@northside.example.org" in output and DEMO_PASSWORD in output


def test_every_printed_log_in_works(db, client):
    output = seed()
    emails = re.findall(r"\S+@\S+\.example\.org", output)
    assert len(emails) == 10  # four staff and one portal client per agency
    for email in emails:
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)


def test_client_names_carry_accents_apostrophes_hyphens_and_other_scripts(db):
    seed()
    with all_agencies():
        names = " ".join(f"{c.given_name} {c.family_name}" for c in Client.objects.all())
    assert "'" in names and "-" in names
    assert re.search(r"[éèêçôöüñøõ]", names)
    assert re.search(r"[\u0600-\u06ff]", names), "Arabic script"
    assert re.search(r"[\u4e00-\u9fff]", names), "Chinese script"


def test_it_is_idempotent(db):
    seed()
    seed()
    assert Agency.objects.count() == 2
    with all_agencies():
        assert Membership.objects.count() == 8
        assert Client.objects.count() == 100
        assert CaseNote.objects.count() == 2 * (8 * 3 + 2)
    assert User.objects.count() == 10


def test_clients_option_generates_that_many_clients_per_agency(db):
    seed("--clients", "130")
    with all_agencies():
        for agency in Agency.objects.all():
            numbers = list(Client.objects.filter(agency=agency).values_list("client_number", flat=True))
            assert len(numbers) == 130
            assert len(set(numbers)) == 130
