"""Reading scenario files: safe YAML, ``extends:``, ``--set`` overrides and clear errors.

Every failure becomes a :class:`ScenarioError` naming the file (or the ``--set`` that supplied
the value), the field path, the value and what was expected, so the CLI can print one line and
exit 2 without a traceback.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gatesim.errors import ScenarioError, shown
from gatesim.scenario.labels import drop_fixed, written_parameters
from gatesim.scenario.references import check_references
from gatesim.scenario.replay import anchor, replay_of
from gatesim.scenario.schema import Scenario
from gatesim.scenario.uncertain import RangeError, collect, mark_ranges
from gatesim.scenario.unused import invented

MAX_FILE_BYTES = 5_000_000
MAX_DEPTH = 60
MAX_VALUES = 200_000
"""Values a document may hold, its YAML aliases expanded (refuses 'billion laughs')."""
MAX_EXTENDS = 20
YAML_FAULTS = (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, IndexError,
               OverflowError)
"""What PyYAML's constructors raise on text they cannot read (a 13th month, a bad tag…)."""

SUFFIXES = (".yaml", ".yml")
"""A scenario (and every file it extends) is a YAML file by name: ``extends: ~/.env`` or
``/etc/shadow`` is refused before the file is opened."""
YAML_NAMED = "a scenario file named *.yaml or *.yml"
NOT_YAML_NAMED = shown("a file not named *.yaml or *.yml (or a link that leads to none)")
FIELDS = frozenset(Scenario.model_fields) | {"extends"}
"""Top-level keys a scenario file may have."""
NOT_A_SCENARIO = "a mapping with unknown fields"
MERGE_TAG = "tag:yaml.org,2002:merge"
SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-9_]+)+(?:\.[0-9_]*)?$")
"""What YAML 1.1 reads as a base-60 number (``18:00`` is 1080, ``7:5`` is 425): gatesim
keeps it as the text written, as YAML 1.2 does (a clock time is text ``HH:MM``)."""

Source = tuple[str, dict[str, Any]]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate or unhashable keys and very deep nesting, takes
    merge keys (``<<: *anchor``) and reads base-60 numbers as text."""

    yaml_implicit_resolvers = {
        first: ([("tag:yaml.org,2002:str", SEXAGESIMAL)] if first and first in "-+0123456789"
                else [])
        + list(resolvers)
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if len(self.states) > MAX_DEPTH:
            raise ScenarioError(self.file, "", shown("deep nesting"), f"at most {MAX_DEPTH} levels")
        self.nodes += 1
        if self.nodes > MAX_VALUES:
            raise ScenarioError(self.file, "", shown(f"over {MAX_VALUES} values"),
                                "a scenario of a sensible size")
        return super().compose_node(parent, index)

    def check_keys(self, node: yaml.Node, done: set[int]) -> None:
        """Refuse a key that is not text, or written twice in one mapping, anywhere under
        ``node`` -- before anything is built, so before merge keys are flattened (a key may
        override one it merges: ``<<: *base`` then ``servers: 3``)."""
        if id(node) in done:
            return
        done.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.check_keys(item, done)
        elif isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                line = f"line {key_node.start_mark.line + 1}"
                if key_node.tag == MERGE_TAG:
                    key: Any = "<<"
                else:
                    key = self.construct_object(key_node, deep=True)
                    if not isinstance(key, str) or not key:
                        raise ScenarioError(self.file, line, key, "a name (text) as key")
                if key in seen:
                    raise ScenarioError(self.file, line, key, "each key only once")
                seen.add(key)
                self.check_keys(value_node, done)


def _expanded_size(node: yaml.Node, memo: dict[int, int], file: str) -> int:
    """How many values the node holds with aliases expanded (shared nodes counted each time)."""
    if id(node) in memo:
        return memo[id(node)]
    size = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, file) + _expanded_size(v, memo, file)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            size += _expanded_size(v, memo, file)
    if size > MAX_VALUES:
        raise ScenarioError(file, "", shown(f"a document that expands to over {MAX_VALUES} values"),
                            "a scenario of a sensible size (check its YAML aliases)")
    memo[id(node)] = size
    return size


def load_text(text: str, file: str) -> Any:
    """YAML text → Python data through the guarded loader, or ScenarioError."""
    loader = None
    try:
        loader = _Loader(text, file)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, file)
        loader.check_keys(node, set())
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(file, where, shown(problem), "valid YAML") from None
    except RecursionError:
        raise ScenarioError(file, "", shown("deep nesting"), "a shallower document") from None
    except YAML_FAULTS as exc:
        raise ScenarioError(file, "", shown(f"a value YAML cannot read ({exc})"),
                            "valid YAML values (dates, numbers, tags)") from None
    finally:
        if loader is not None:
            loader.dispose()


def _unshared(x: Any) -> Any:
    """A YAML alias makes several places share one object: give each its own, so a --set
    changes one path only (the expanded size is bounded by MAX_VALUES)."""
    if isinstance(x, dict):
        return {k: _unshared(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unshared(v) for v in x]
    return x


def kind(value: Any) -> str:
    """What a value is, without its content (for values that may not be the user's to show)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return "a date"
    return f"a {type(value).__name__}"


def _yaml_named(path: Path) -> bool:
    """The name says YAML, and so does the file a link points to."""
    try:
        return (path.suffix.lower() in SUFFIXES
                and path.resolve().suffix.lower() in SUFFIXES)
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL in the name
        return False


def not_a_scenario(doc: Any) -> str | None:
    """How a parsed file that is no scenario at all is described (never its content: it may
    be a secrets file that extends or a typo pointed at), or None for a scenario mapping."""
    if not isinstance(doc, dict):
        return "an empty file" if doc is None else kind(doc)
    if doc and not FIELDS & set(doc):
        return NOT_A_SCENARIO
    return None


def read_yaml(path: Path, file: str | None = None,
              referrer: tuple[str, str] | None = None) -> dict[str, Any]:
    """Parse one YAML file into a mapping, or raise ScenarioError naming ``file`` -- or, when
    the file is no scenario at all, the ``extends`` of ``referrer`` (file, value) that named it."""
    file = file or str(path)
    if not _yaml_named(path):
        raise ScenarioError(file, "", NOT_YAML_NAMED, YAML_NAMED)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(file, "", shown(file), f"a readable scenario file ({exc.strerror})"
                            ) from None
    if not path.is_file():
        raise ScenarioError(file, "", shown("a directory"), "a scenario file")
    if size > MAX_FILE_BYTES:
        raise ScenarioError(file, "", shown(f"{size} bytes"),
                            f"a file under {MAX_FILE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", shown("unreadable text"), f"a UTF-8 file ({exc})") from None
    data = _unshared(mark_ranges(load_text(text, file), file))  # before aliases are unshared
    what = not_a_scenario(data)
    if what is not None and referrer is not None:
        raise ScenarioError(referrer[0], "extends", shown(f"{referrer[1]!r}, {what}"),
                            "a scenario file (a mapping of scenario fields)")
    if what is not None:
        raise ScenarioError(file, "", shown(what), "a mapping of scenario fields")
    unknown = next((k for k in data if k not in FIELDS), None)
    if unknown is not None:  # named, but its value is not shown (this may be no scenario)
        raise ScenarioError(file, unknown, shown(kind(data[unknown])),
                            "no such field here (check the spelling)")
    return data


def _merge(base: Any, over: Any) -> Any:
    """Deep merge for ``extends:``; an empty mapping replaces (YAML has no way to delete), and
    so does a distribution of another family (``dist:`` changed: the base's ``cv`` must not
    stay on an exponential)."""
    if isinstance(base, dict) and isinstance(over, dict) and over and (
            "dist" not in over or over.get("dist") == base.get("dist")):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return copy.deepcopy(over)


def resolve_document(path: Path, file: str | None = None,
                     _chain: tuple[tuple[Path, str, str], ...] = ()
                     ) -> tuple[dict[str, Any], list[Source]]:
    """The mapping with ``extends:`` resolved (deep merge, the extending file wins), and the
    files it came from, the extending one first."""
    file = file or str(path)
    if not _yaml_named(path):  # before anything is read (an extends target is checked so too)
        raise ScenarioError(file, "", NOT_YAML_NAMED, YAML_NAMED)
    real = path.resolve()
    if len(_chain) >= MAX_EXTENDS:
        first = _chain[0][1]
        raise ScenarioError(first, "extends", shown(f"a chain of over {MAX_EXTENDS} files"),
                            f"at most {MAX_EXTENDS} levels of extends")
    if real in [r for r, *_ in _chain]:
        cycle = " -> ".join(r.name for r in [*(r for r, *_ in _chain), real])
        raise ScenarioError(_chain[-1][1], "extends", shown(cycle), "no cycle of extends")
    doc = read_yaml(path, file, _chain[-1][1:] if _chain else None)
    anchor(doc, path.parent)
    parent = doc.pop("extends", None)
    if parent is None:
        return doc, [(file, doc)]
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(file, "extends", parent, "the path of another scenario file")
    parent_path = path.parent / parent
    if not _yaml_named(parent_path):  # refused before it is opened, or even looked for
        raise ScenarioError(file, "extends", parent, YAML_NAMED)
    try:
        exists = parent_path.is_file()
    except (OSError, ValueError):  # e.g. a name longer than the file system allows
        exists = False
    if not exists:
        raise ScenarioError(file, "extends", parent, "an existing scenario file")
    base, sources = resolve_document(parent_path, str(Path(file).parent / parent),
                                     (*_chain, (real, file, parent)))
    if isinstance(base, dict):  # a variant is another scenario: never the base's title
        base = {k: v for k, v in base.items() if k != "label"}
    return _merge(base, doc), [(file, doc), *sources]


def _parse_assignment(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ScenarioError("--set", text, text, "path.to.field=value")
    key, raw = text.split("=", 1)
    if not key.strip() or any(p == "" for p in key.strip().split(".")):
        raise ScenarioError("--set", key, text, "a dotted field path such as yards.front.slots")
    try:
        value = load_text(raw, "--set") if raw.strip() else raw
    except ScenarioError as exc:
        if exc.path or "values" in exc.expected:  # a guard refused it (duplicate, bomb, depth)
            raise
        value = raw  # not YAML: the text itself (the schema judges it)
    return _parts(key.strip()), value


def _parts(dotted: str) -> list[str]:
    """The segments of a dotted path, as typed (a digit string indexes a list, names a key)."""
    return dotted.split(".")


def apply_overrides(doc: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any]) -> list[str]:
    """Apply ``path.to.field=value`` assignments (values parsed as YAML) in place; returns the
    dotted paths assigned. A path may change what exists but not create a new yard, stage,
    lane, calendar, stream, route or cargo class (unused.py)."""
    items = (
        [(_parts(k), v) for k, v in overrides.items()]
        if isinstance(overrides, Mapping)
        else [_parse_assignment(o) for o in overrides]
    )
    for parts, value in items:
        node: Any = doc
        dotted = ".".join(map(str, parts))
        section = doc.get(parts[0]) if len(parts) > 1 else None
        existing = list(section) if isinstance(section, dict) else []
        why = invented(parts[0], parts[1], existing) if len(parts) > 1 else None
        if why:
            raise ScenarioError("--set", dotted, shown(f"a new {parts[0]} entry"), why)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                if last:
                    node[int(part)] = value
                node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ScenarioError("--set", dotted, value, "a path through mappings or lists")
    return [".".join(map(str, parts)) for parts, _ in items]


def _clean_loc(loc: tuple[Any, ...], doc: Any, keep_last: bool) -> list[str | int]:
    """The field path as the user wrote it: pydantic's union tags are dropped."""
    out: list[str | int] = []
    node = doc
    for i, part in enumerate(loc):
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        is_tag = isinstance(node, dict) and nxt is not None and _holds(node, nxt) and not (
            _holds(node.get(part), nxt))
        if _holds(node, part) and not is_tag:
            node = node[part]
        elif not (keep_last and i == len(loc) - 1):
            continue
        out.append(part)
    return out


def _holds(node: Any, part: Any) -> bool:
    return (isinstance(node, dict) and part in node) or (
        isinstance(node, list) and isinstance(part, int) and part < len(node))


def _dotted(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _expected(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "extra_forbidden":
        return "no such field here (check the spelling)"
    if kind == "missing":
        return "this required field"
    if kind == "union_tag_invalid":
        return f"{ctx.get('discriminator', 'a tag')} one of {ctx.get('expected_tags')}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    return err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")


def _origin(parts: list[str | int], sources: list[Source], assigned: list[str]) -> str:
    """Who supplied the value at ``parts``: a --set, or the file that reaches deepest into it
    (the extending file first)."""
    dotted = ".".join(map(str, parts))
    for path in assigned:
        if dotted == path or dotted.startswith(path + ".") or path.startswith(dotted + "."):
            return f"{sources[0][0]} (--set {path})"

    def depth(doc: Any) -> int:
        n = 0
        for part in parts:
            if not _holds(doc, part):
                break
            doc, n = doc[part], n + 1
        return n

    return max(sources, key=lambda s: depth(s[1]))[0]


def _first_error(errors: list[Any]) -> Any:
    """The error to show: a misspelt field before the 'missing' it causes, shallow before deep,
    and a union member's type mismatch only when nothing better explains the fault."""

    def rank(e: Any) -> tuple[int, int, int]:
        type_error = e["type"].endswith("_type") and len(errors) > 1
        order = {"extra_forbidden": 0, "missing": 2}.get(e["type"], 1)
        return (int(type_error), len(e["loc"]), order)

    return min(errors, key=rank)


def validate(doc: dict[str, Any], file: str, sources: list[Source] | None = None,
             assigned: list[str] = (), written: Collection[str] = ()) -> Scenario:
    """Validate a resolved mapping into a Scenario, or raise ScenarioError for the first fault.
    ``written``: the names of the ranges the files wrote before overrides and variants fixed
    some (the ``labels:`` of a fixed one are dropped, labels.drop_fixed)."""
    sources = sources or [(file, doc)]
    try:
        doc = mark_ranges(doc, file)  # ranges given by --set or as plain mappings
        found = collect(doc)
    except RecursionError:
        raise ScenarioError(file, "", shown("deep nesting"), "a shallower document") from None
    except RangeError as exc:
        parts = [int(p) if p.isdigit() else p for p in exc.path.split(".")]
        raise ScenarioError(_origin(parts, sources, list(assigned)), exc.path, shown(exc.value),
                            exc.expected) from None
    if found and isinstance(doc, dict):
        doc["uncertain"] = {**found, **(doc.get("uncertain") or {})}
    if written and isinstance(doc, dict):
        drop_fixed(doc, written)
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        err = _first_error(exc.errors())
        parts = _clean_loc(err["loc"], doc, keep_last=err["type"] in ("missing", "extra_forbidden"))
        value = (shown("nothing") if err["type"] == "missing"
                 else shown(kind(err.get("input"))) if err["type"] == "extra_forbidden"
                 else err.get("input"))  # an unknown field's value is not shown
        raise ScenarioError(_origin(parts, sources, list(assigned)), _dotted(parts), value,
                            _expected(err)) from None
    except RecursionError:
        raise ScenarioError(file, "", shown("deep nesting"), "a shallower document") from None
    problem = check_references(scenario)
    if problem:
        path, value, expected = problem
        parts = [int(p) if p.isdigit() else p
                 for p in path.replace("[", ".").replace("]", "").split(".")]
        raise ScenarioError(_origin(parts, sources, list(assigned)), path, value, expected)
    for name, stream in scenario.arrivals.items():
        if stream.replay is not None:
            replay_of(scenario, name)  # a fault in the file is found now, not in a worker
    return scenario


def load_scenario(
    path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = ()
) -> Scenario:
    """Load, resolve and validate a scenario file; ``overrides`` are ``--set`` assignments."""
    doc, sources = resolve_document(Path(path), str(path))
    written = written_parameters([doc, *(d for _, d in sources)])  # before overrides fix any
    assigned = apply_overrides(doc, overrides)
    return validate(doc, str(path), sources, assigned, written)
