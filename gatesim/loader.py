"""Reading scenario files: safe YAML, ``extends:``, ``--set`` overrides and clear errors.

Every failure becomes a :class:`ScenarioError` naming the file, the field path, the value and
what was expected, so the CLI can print one line and exit 2 without a traceback.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gatesim.errors import ScenarioError
from gatesim.references import check_references
from gatesim.schema import Scenario

MAX_FILE_BYTES = 5_000_000
MAX_ALIASES = 200
MAX_DEPTH = 60


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and alias bombs ("billion laughs")."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file, self.aliases = file, 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ScenarioError(self.file, "", f"{self.aliases} aliases", "at most 200 aliases")
        if self.get_depth() > MAX_DEPTH:
            raise ScenarioError(self.file, "", "deep nesting", f"at most {MAX_DEPTH} levels")
        return super().compose_node(parent, index)

    def get_depth(self) -> int:
        return len(self.states)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ScenarioError(self.file, f"line {line}", key, "each key only once")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse one YAML file into a mapping, or raise ScenarioError."""
    file = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(file, "", file, f"a readable scenario file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(file, "", f"{size} bytes", f"a file under {MAX_FILE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", file, f"a readable UTF-8 file ({exc})") from None
    loader = _Loader(text, file)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(file, where, problem, "valid YAML") from None
    except RecursionError:
        raise ScenarioError(file, "", "deep nesting", "a shallower document") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError(file, "", type(data).__name__, "a mapping of scenario fields")
    return data


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return copy.deepcopy(over)


def resolve_document(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The scenario mapping with ``extends:`` resolved (deep merge, the extending file wins)."""
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(str(_chain[-1]), "extends", cycle, "no cycle of extends")
    doc = read_yaml(path)
    parent = doc.pop("extends", None)
    if parent is None:
        return doc
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(str(path), "extends", parent, "the path of another scenario file")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ScenarioError(str(path), "extends", parent, "an existing scenario file")
    return _merge(resolve_document(parent_path, (*_chain, path)), doc)


def _parse_assignment(text: str) -> tuple[list[str | int], Any]:
    if "=" not in text:
        raise ScenarioError("--set", text, text, "path.to.field=value")
    key, raw = text.split("=", 1)
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    if not key.strip() or any(p == "" for p in parts):
        raise ScenarioError("--set", key, text, "a dotted field path such as yards.front.slots")
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(doc: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any]) -> None:
    """Apply ``path.to.field=value`` assignments (values parsed as YAML) in place."""
    items = (
        [(k.split("."), v) for k, v in overrides.items()]
        if isinstance(overrides, Mapping)
        else [_parse_assignment(o) for o in overrides]
    )
    for parts, value in items:
        node: Any = doc
        dotted = ".".join(map(str, parts))
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list) and isinstance(part, int) and part < len(node):
                if last:
                    node[part] = value
                node = node[part]
            elif isinstance(node, dict):
                if last:
                    node[str(part)] = value
                else:
                    node = node.setdefault(str(part), {})
            else:
                raise ScenarioError("--set", dotted, value, "a path through mappings or lists")


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(doc: dict[str, Any], file: str) -> Scenario:
    """Validate a resolved mapping into a Scenario, or raise ScenarioError for the first fault."""
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        err = min(exc.errors(), key=lambda e: len(e["loc"]))
        expected = err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
        if err["type"] == "extra_forbidden":
            expected = "no such field here (check the spelling)"
        raise ScenarioError(file, _path(err["loc"]), err.get("input"), expected) from None
    except RecursionError:
        raise ScenarioError(file, "", "deep nesting", "a shallower document") from None
    problem = check_references(scenario)
    if problem:
        raise ScenarioError(file, *problem)
    return scenario


def load_scenario(
    path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = ()
) -> Scenario:
    """Load, resolve and validate a scenario file; ``overrides`` are ``--set`` assignments."""
    path = Path(path)
    doc = resolve_document(path)
    apply_overrides(doc, overrides)
    return validate(doc, str(path))
