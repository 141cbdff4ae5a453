"""The message catalogs: the shipped .mo is the committed .po compiled, every message of the
code and the report templates has a checked Vietnamese translation, and a translation keeps
its message's placeholders (a lost ``%(n)s`` or ``{road}`` would fail at run time, in
Vietnamese only)."""

from __future__ import annotations

import gettext
import importlib.util
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from gatesim import i18n

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalog_script", ROOT / "scripts" / "catalog.py")
catalog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog)

LANGS = [lang for lang in i18n.LANGUAGES if lang != "en"]
NAMED = re.compile(r"%\((\w+)\)[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%[-#0+]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa]")
BRACE = re.compile(r"\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


def po(lang: str):
    with catalog.po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=catalog.DOMAIN)


def texts(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def forms(message) -> list[str]:
    s = message.string
    return list(s) if isinstance(s, tuple | list) else [s]


def placeholders(text: str, flags: set[str]) -> tuple[set[str], list[str], set[str]]:
    """Named %-placeholders, positional %-conversions in order, and {}-fields, as the
    message's flags say it is formatted."""
    named: set[str] = set()
    positional: list[str] = []
    fields: set[str] = set()
    if "python-format" in flags:
        plain = text.replace("%%", "")
        named = set(NAMED.findall(plain))
        positional = [m[-1] for m in POSITIONAL.findall(NAMED.sub("", plain))]
    if "python-brace-format" in flags:
        fields = set(BRACE.findall(text.replace("{{", "").replace("}}", "")))
    return named, positional, fields


def lone_percent(text: str) -> bool:
    """A '%' that is neither '%%' nor part of a placeholder (formatting would fail on it, or
    eat the next letter)."""
    return "%" in POSITIONAL.sub("", NAMED.sub("", text.replace("%%", "")))


@pytest.fixture(scope="module")
def extracted():
    return catalog.extract()


@pytest.mark.parametrize("lang", LANGS)
def test_the_shipped_mo_is_the_committed_po_compiled(lang):
    compiled = catalog.mo_bytes(catalog.po_path(lang).read_text(encoding="utf-8"), lang)
    shipped = gettext.GNUTranslations(io.BytesIO(catalog.mo_path(lang).read_bytes()))
    fresh = gettext.GNUTranslations(io.BytesIO(compiled))
    assert shipped._catalog == fresh._catalog  # same messages, translations and header
    assert i18n._catalog(lang).gettext is not None  # and gettext finds it where it is shipped


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_has_a_checked_translation(lang, extracted):
    translations = {m.id: m for m in po(lang) if m.id}
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = translations.get(message.id)
        if found is None or found.fuzzy or not all(f.strip() for f in forms(found)):
            state = "missing" if found is None else "fuzzy" if found.fuzzy else "untranslated"
            missing.append(f"{state}: {texts(message)[0]!r} ({message.locations[0][0]})")
    assert missing == [], f"{len(missing)} messages (run scripts/catalog.py):\n" + "\n".join(
        missing)


@pytest.mark.parametrize("lang", LANGS)
def test_a_translation_keeps_the_placeholders_of_its_message(lang):
    wrong = []
    for message in po(lang):
        if not message.id or message.fuzzy or not any(forms(message)):
            continue  # a fuzzy suggestion is not shipped (and is checked once confirmed)
        flags = set(message.flags)
        ids = texts(message)
        want = [placeholders(t, flags) for t in ids]
        named = set().union(*(w[0] for w in want))  # a plural form may drop the count
        fields = set().union(*(w[2] for w in want))
        positional = want[-1][1]
        for form in forms(message):
            got = placeholders(form, flags)
            if got != (named, positional, fields):
                wrong.append(f"{ids[0]!r} → {form!r}: {got} != {(named, positional, fields)}")
                continue
            if "python-format" in flags and lone_percent(form) and not any(
                    lone_percent(i) for i in ids):
                wrong.append(f"{ids[0]!r} → {form!r}: a lone % (write %% for a percent sign)")
                continue
            try:  # the translation formats as the code will format it
                if named:
                    form % dict.fromkeys(named, 1)
                if fields and all(fields):
                    form.format(**dict.fromkeys(fields, 1))
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                wrong.append(f"{ids[0]!r} → {form!r}: {exc!r}")
    assert wrong == []


def test_extraction_reads_python_calls_and_template_trans_blocks(tmp_path):
    """The extractor is wired up for both kinds of source (a template's {% trans %} reaches
    the catalog as gettext, its variables as %(name)s)."""
    pkg = tmp_path / "pkg"
    (pkg / "output" / "templates").mkdir(parents=True)
    (pkg / "m.py").write_text('from gatesim.i18n import _, ngettext\n'
                              'A = _("plain %(x)s")\n'
                              'B = ngettext("%(n)d day", "%(n)d days", 2)\n'
                              'C = str("not a message")\n', encoding="utf-8")
    (pkg / "output" / "templates" / "t.html.j2").write_text(
        "{# TRANSLATORS: the title #}\n<h1>{% trans %}Report of {{ name }}{% endtrans %}</h1>\n"
        "<p>{{ _('Yards') }} {% trans count=n %}{{ count }} truck{% pluralize %}"
        "{{ count }} trucks{% endtrans %}</p>\n", encoding="utf-8")
    got = {m.id: m for m in catalog.extract(pkg) if m.id}
    assert set(got) == {"plain %(x)s", ("%(n)d day", "%(n)d days"), "Report of %(name)s",
                        "Yards", ("%(count)s truck", "%(count)s trucks")}
    assert got["Report of %(name)s"].auto_comments == ["the title"]
    assert "python-format" in got["plain %(x)s"].flags


def test_a_template_jinja_cannot_parse_stops_the_extraction(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "output" / "templates").mkdir(parents=True)
    (pkg / "output" / "templates" / "bad.html.j2").write_text("{% trans %}x{% endfor %}")
    with pytest.raises(Exception, match="(?i)endtrans|endfor|unknown|unexpected"):
        catalog.extract(pkg)


def test_updating_keeps_translations_and_brings_new_messages_in(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "LOCALE_DIR", tmp_path)
    path = catalog.po_path("vi")
    path.parent.mkdir(parents=True)
    path.write_text(catalog.header("vi") + 'msgid "Yards"\nmsgstr "Bãi"\n\n'
                    'msgid "gone"\nmsgstr "đã bỏ"\n', encoding="utf-8")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text('_("Yards")\n_("Yard slots")\n_("Trucks arriving")\n',
                              encoding="utf-8")
    text = catalog.po_text("vi", catalog.updated("vi", catalog.extract(pkg)))
    got = {m.id: (m.string, m.fuzzy) for m in read_po(io.BytesIO(text.encode()), locale="vi")
           if m.id}
    assert got == {"Yards": ("Bãi", False), "Yard slots": ("Bãi", True),  # a suggestion
                   "Trucks arriving": ("", False)}  # "gone" is dropped
    assert text == catalog.po_text("vi", catalog.updated("vi", catalog.extract(pkg)))
    assert sorted(catalog.problems(text, "vi")) == ["vi: fuzzy: 'Yard slots'",
                                                    "vi: untranslated: 'Trucks arriving'"]
    compiled = gettext.GNUTranslations(io.BytesIO(catalog.mo_bytes(text, "vi")))
    assert compiled.gettext("Yards") == "Bãi"
    assert compiled.gettext("Yard slots") == "Yard slots"  # fuzzy: not shipped
