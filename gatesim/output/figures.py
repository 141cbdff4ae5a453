"""What every report shows the same way: a figure embedded in the page, the provenance table.

Shared by report.py (run, comparison, sweep) and analysis_report.py (sensitivity, screening,
calibration), which would otherwise import each other.
"""

from __future__ import annotations

import base64
from importlib import metadata
from pathlib import Path
from typing import Any

from gatesim.i18n import _, number


def embed(png: Path, caption: str) -> dict[str, str]:
    """A figure for the templates: the PNG as a data URI, its caption, its SVG's name."""
    return {"stem": png.stem, "caption": caption, "svg": png.with_suffix(".svg").name,
            "src": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()}


def provenance(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Seed, replications, layout version, run time, host and versions, where recorded."""
    host = meta.get("host") or {}
    runtime = meta.get("runtime_s")
    rows = [(_("seed"), meta.get("seed")), (_("replications"), meta.get("replications")),
            (_("worker processes"), meta.get("workers")),
            (_("random-stream layout version"), meta.get("stream_layout_version")),
            (_("run time (s)"), number(runtime, 1) if runtime is not None else None),
            (_("trucks arrived"), meta.get("trucks_arrived")),
            (_("host"), _("%(n)s CPUs, %(platform)s") % {
                "n": host.get("cpus"), "platform": host.get("platform")} if host else None),
            (_("scenario file"), meta.get("scenario_file"))]
    versions = dict(meta.get("versions") or {})
    for pkg in ("matplotlib", "jinja2"):
        versions[_("%(package)s (report)") % {"package": pkg}] = metadata.version(pkg)
    rows.append((_("versions"), ", ".join(f"{k} {v}" for k, v in versions.items())))
    return [(k, str(v)) for k, v in rows if v is not None]
