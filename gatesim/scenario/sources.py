"""Where a scenario's numbers come from: its ``# src: …`` and ``# assumption: …`` comments.

Every number in a shipped scenario names its source in the facts file or says it is an
assumption; the report lists them, following ``extends:`` to the files a variant builds on.
"""

from __future__ import annotations

import re
from pathlib import Path

TAG = re.compile(r"\b(src|assumption)\b")
KEY = re.compile(r"^([A-Za-z_][\w\-]*)\s*:(.*)$")


def _split_comment(line: str) -> tuple[str, str]:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1:].strip()
    return line, ""


def parse_sources(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """(free comments, [{field, value, kind, note}]) from a scenario YAML's comments."""
    notes: list[str] = []
    rows: list[dict[str, str]] = []
    stack: list[tuple[int, str]] = []
    block = -1
    for line in text.splitlines():
        code, comment = _split_comment(line)
        if not code.strip():
            if comment:
                notes.append(comment)
            continue
        indent = len(code) - len(code.lstrip())
        if 0 <= block < indent:
            continue
        block, body = -1, code.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if body.startswith("- "):
            stack.append((indent, "[]"))
            body, indent = body[2:].lstrip(), indent + 2
        m = KEY.match(body)
        value = body
        if m:
            stack.append((indent, m.group(1)))
            value = m.group(2).strip()
            if value[:1] in (">", "|"):
                block, value = indent, "(text)"
        tags = set(TAG.findall(comment))
        if tags:
            kind = " + ".join(k for t, k in (("src", "source"), ("assumption", "assumption"))
                              if t in tags)
            field = ".".join(k for _, k in stack).replace(".[]", "[]")
            rows.append({"field": field, "value": value, "kind": kind, "note": comment})
    return notes, rows


def sources(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[list[str], list[dict[str, str]]]:
    """Comments of a scenario file and the files it ``extends`` (the extending file wins)."""
    text = path.read_text(encoding="utf-8")
    notes, rows = parse_sources(text)
    parent = re.search(r"^extends:\s*['\"]?([^'\"#\s]+)", text, re.M)
    if parent and not parent.group(1).lower().endswith((".yaml", ".yml")):
        parent = None  # the loader reads only YAML files; so does this (comments are shown)
    if parent and path.resolve() not in _seen:
        more_notes, more = sources(path.parent / parent.group(1), (*_seen, path.resolve()))
        own = {r["field"] for r in rows}
        rows, notes = [r for r in more if r["field"] not in own] + rows, more_notes + notes
    return notes, rows
