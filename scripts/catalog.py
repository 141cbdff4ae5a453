"""The message catalogs of gatesim: extract, update, compile (``make catalog``).

    .venv/bin/python scripts/catalog.py           # extract, update every .po, compile the .mo
    .venv/bin/python scripts/catalog.py --check   # change nothing; exit 1 if a catalog lags

Messages are the English strings of the code -- ``_("...")``, ``ngettext("...", "...", n)``
and ``N_("...")`` in ``gatesim/**/*.py`` -- and of the report templates,
``gatesim/output/templates/*.j2`` (Jinja2's i18n extension: ``{% trans %}…{% endtrans %}``
and ``_()``). Each language's
``gatesim/locale/<lang>/LC_MESSAGES/gatesim.po`` is updated in place: translations of messages
still in use are kept, a new message comes in untranslated (or fuzzy, with the translation of
a similar old one to start from), and messages no longer used are dropped (git keeps them).
Then the ``.mo`` the package ships is compiled from it (fuzzy translations left out).

The ``.po`` is written without line numbers and with a fixed header, so it changes only when a
message or a translation does. tests/test_catalog.py checks that the committed catalogs are
complete and compiled.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gatesim"
LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "gatesim"
LANGUAGES = ("vi",)
"""The languages with a catalog (English is the source language: the code's own strings)."""
SOURCES = [
    ([("**.py", "python")], {}, {"_": None, "N_": None, "ngettext": (1, 2)}),
    ([("**/output/templates/**.j2", "jinja2.ext:babel_extract")],
     {"**/output/templates/**.j2": {"silent": "false", "trim_blocks": "true",
                                    "lstrip_blocks": "true"}},
     {"_": None, "gettext": None, "ngettext": (1, 2)}),
]
"""Where messages are, how they are read, and the calls that mark them: in Python ``_()``,
``ngettext()`` and ``N_()`` (a message marked where it is defined and translated where it is
shown, ``_(DAYS[d])``); in a template also the ``gettext``/``ngettext`` calls Jinja makes of its
``{% trans %}`` blocks (a ``{{ name }}`` in one becomes ``%(name)s``). A template Jinja cannot
parse stops the extraction (``silent: false``; Babel would skip it quietly)."""
WIDTH = 100


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract(package: Path = PACKAGE) -> Catalog:
    """Every message of the code and the templates under ``package``, with where it is used
    (a translator's comment starts ``# TRANSLATORS:`` or ``{# TRANSLATORS: #}``)."""
    template = Catalog(domain=DOMAIN, project="gatesim", fuzzy=False)
    for methods, options, keywords in SOURCES:
        found = extract_from_dir(package, methods, options, keywords,
                                 comment_tags=("TRANSLATORS:",), strip_comment_tags=True)
        for filename, lineno, message, comments, context in found:
            where = (Path(package.name) / filename).as_posix()
            template.add(message, None, [(where, lineno)], auto_comments=comments,
                         context=context)
    return template


def header_fields(lang: str) -> list[tuple[str, str]]:
    """The catalog's header, fixed (no dates, no tool version), so that a run that changes no
    message changes no byte of the .po or the .mo."""
    nplurals, plural = get_plural(lang)
    return [("Project-Id-Version", "gatesim"), ("Language", lang), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "8bit"),
            ("Plural-Forms", f"nplurals={nplurals}; plural={plural};")]


def header(lang: str) -> str:
    """The .po header: a comment for the translator, then the fixed fields."""
    lines = "".join(f'"{k}: {v}\\n"\n' for k, v in header_fields(lang))
    return (f"# {lang} translations of gatesim's report, plots and terminal lines.\n"
            f"# Updated by scripts/catalog.py (make catalog); translate the empty msgstr and\n"
            f"# remove the 'fuzzy' flag once a suggested translation is checked.\n"
            f'msgid ""\nmsgstr ""\n{lines}\n')


class _Compiled(Catalog):
    """A catalog whose header is :func:`header_fields` (Babel's would carry today's date)."""

    def __init__(self, lang: str) -> None:
        super().__init__(locale=lang, domain=DOMAIN, fuzzy=False)
        self.lang = lang

    @property
    def mime_headers(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return header_fields(self.lang)


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def updated(lang: str, template: Catalog) -> Catalog:
    """The language's catalog brought up to the template (translations kept)."""
    catalog = read(lang)
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False  # the header is written by header(), never fuzzy
    return catalog


def po_text(lang: str, catalog: Catalog) -> str:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, omit_header=True, sort_output=True,
             include_lineno=False, ignore_obsolete=True)
    return header(lang) + out.getvalue().decode("utf-8")


def mo_bytes(po: str, lang: str) -> bytes:
    """The compiled catalog of a .po text (fuzzy translations left out)."""
    compiled = _Compiled(lang)
    for message in read_po(io.BytesIO(po.encode("utf-8")), locale=lang, domain=DOMAIN):
        if message.id:
            compiled[message.id] = message
    out = io.BytesIO()
    write_mo(out, compiled, use_fuzzy=False)
    return out.getvalue()


def problems(po: str, lang: str) -> Iterator[str]:
    """Messages without a usable translation: untranslated or fuzzy."""
    catalog = read_po(io.BytesIO(po.encode("utf-8")), locale=lang, domain=DOMAIN)
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if message.fuzzy:
            yield f"{lang}: fuzzy: {msgid!r}"
        elif not all(forms):
            yield f"{lang}: untranslated: {msgid!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a .po or .mo is not up to date")
    args = parser.parse_args(argv)
    template = extract()
    stale = False
    for lang in LANGUAGES:
        po = po_text(lang, updated(lang, template))
        mo = mo_bytes(po, lang)
        old_po = po_path(lang).read_text(encoding="utf-8") if po_path(lang).exists() else ""
        old_mo = mo_path(lang).read_bytes() if mo_path(lang).exists() else b""
        todo = list(problems(po, lang))
        if args.check:
            for path, same in ((po_path(lang), po == old_po), (mo_path(lang), mo == old_mo)):
                if not same:
                    stale = True
                    print(f"{path.relative_to(ROOT)}: not up to date (run make catalog)")
        else:
            po_path(lang).parent.mkdir(parents=True, exist_ok=True)
            if po != old_po:
                po_path(lang).write_text(po, encoding="utf-8")
            if mo != old_mo:
                mo_path(lang).write_bytes(mo)
        print(f"{lang}: {len(template)} messages, {len(todo)} to translate")
        for line in todo:
            print(f"  {line}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
