"""What every report shows the same way: a figure embedded in the page, the provenance table.

Shared by report.py (run, comparison, sweep) and analysis_report.py (sensitivity, screening,
calibration), which would otherwise import each other.
"""

from __future__ import annotations

import base64
from importlib import metadata
from pathlib import Path
from typing import Any


def embed(png: Path, caption: str) -> dict[str, str]:
    """A figure for the templates: the PNG as a data URI, its caption, its SVG's name."""
    return {"stem": png.stem, "caption": caption, "svg": png.with_suffix(".svg").name,
            "src": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()}


def provenance(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Seed, replications, layout version, run time, host and versions, where recorded."""
    host = meta.get("host") or {}
    rows = [("seed", meta.get("seed")), ("replications", meta.get("replications")),
            ("worker processes", meta.get("workers")),
            ("random-stream layout version", meta.get("stream_layout_version")),
            ("run time (s)", meta.get("runtime_s")), ("trucks arrived", meta.get("trucks_arrived")),
            ("host", f"{host.get('cpus')} CPUs, {host.get('platform')}" if host else None),
            ("scenario file", meta.get("scenario_file"))]
    versions = dict(meta.get("versions") or {})
    for pkg in ("matplotlib", "jinja2"):
        versions[f"{pkg} (report)"] = metadata.version(pkg)
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return [(k, str(v)) for k, v in rows if v is not None]
