"""Every string has a French translation, and the compiled catalogue is the one the .po describes.

Re-run the pass with `make messages`, translate what it adds, and these tests say when it is done.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text.strip()[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` entries are skipped)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            entry.msgctxt, target = _unquote(line[8:]), ("msgctxt", None)
        elif line.startswith("msgid_plural "):
            entry.msgid_plural, target = _unquote(line[13:]), ("msgid_plural", None)
        elif line.startswith("msgid "):
            entry.msgid, target = _unquote(line[6:]), ("msgid", None)
        elif match := re.match(r"msgstr\[(\d+)\] (.*)", line):
            index = int(match.group(1))
            entry.msgstr[index], target = _unquote(match.group(2)), ("msgstr", index)
        elif line.startswith("msgstr "):
            entry.msgstr[0], target = _unquote(line[7:]), ("msgstr", 0)
        elif line.startswith('"') and target is not None:
            kind, index = target
            if kind == "msgstr":
                entry.msgstr[index] += _unquote(line)
            else:
                setattr(entry, kind, getattr(entry, kind) + _unquote(line))
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run `make messages`"
    return parse_po(PO_FILE)


def test_the_catalogue_holds_the_strings_of_every_app(entries):
    msgids = {entry.msgid for entry in entries}
    assert len(msgids) > 100
    assert {"Dashboard", "Administration", "Log out"} <= msgids


def test_every_string_has_a_french_translation(entries):
    missing = [f"line {e.line}: {e.msgid!r}" for e in entries if e.msgid and not all(e.msgstr.values())]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_no_translation_is_fuzzy(entries):
    # makemessages marks a guess as fuzzy; Django ignores fuzzy entries, so the page stays English.
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy:\n" + "\n".join(fuzzy)


def test_python_format_placeholders_survive_translation(entries):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    wrong = [
        f"line {e.line}: {e.msgid!r}"
        for e in entries
        if e.msgid and e.msgid_plural is None and sorted(placeholder.findall(e.msgid)) != sorted(placeholder.findall(e.msgstr.get(0, "")))
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_compiled_catalogue_matches_the_po_file(entries):
    with MO_FILE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for entry in entries:
        if not entry.msgid:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid
        if entry.msgid_plural is None:
            if catalog.get(key) != entry.msgstr[0]:
                stale.append(entry.msgid)
        elif any(catalog.get((key, index)) != text for index, text in entry.msgstr.items()):
            stale.append(entry.msgid)
    assert not stale, "compile the messages again (make messages); stale: " + ", ".join(stale[:10])


@pytest.mark.django_db
def test_the_dashboard_renders_in_french(client, agency, admin):
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("web:dashboard")).content.decode()
    for french in ("Tableau de bord", "Clients", "Activités de groupe", "Tâches", "Administration", "Mon travail aujourd’hui", "Se déconnecter"):
        assert french in html, french
    for english in ("Dashboard", "Sessions", "Tasks", "My work today", "Log out", "Skip to main content"):
        assert f">{english}<" not in html and f"{english}</" not in html, english
