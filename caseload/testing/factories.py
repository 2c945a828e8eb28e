"""Factories for tests and demo data: rows are made the way the code makes them."""

from __future__ import annotations

import factory
from faker import Faker

from caseload.accounts.models import User
from caseload.tenancy import actions as tenancy_actions
from caseload.tenancy.models import Agency, Role
from caseload.tenancy.scoping import agency_scope

TEST_PASSWORD = "correct horse battery staple"

# Names carry accents, apostrophes and other scripts, as the people agencies serve do.
LOCALES = ["en_CA", "fr_CA", "es_ES", "ar_AA", "zh_CN", "vi_VN"]
multilingual = Faker(LOCALES)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


_agency_counter = iter(range(1, 10**9))


def make_agency(name: str | None = None, **extra) -> Agency:
    n = next(_agency_counter)
    return tenancy_actions.create_agency(actor=None, name=name or f"Agency {n}", slug=extra.pop("slug", f"agency-{n}"), **extra)


def role(agency: Agency, name: str) -> Role:
    return Role.objects.for_agency(agency).get(name=name)


def make_member(agency: Agency, role_name: str = "Caseworker", email: str | None = None, **extra):
    """A staff member of the agency with a seeded role; returns the membership (``.user``)."""
    user = UserFactory(**({"email": email} if email else {}))
    with agency_scope(agency):
        return tenancy_actions.add_staff_member(
            agency=agency, actor=None, email=user.email, full_name=user.full_name, role=role(agency, role_name), **extra
        )
