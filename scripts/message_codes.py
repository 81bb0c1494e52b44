"""Print the table of every message code of crmroi (docs/api.md, "Message codes").

Usage: `.venv/bin/python scripts/message_codes.py` from the repository root. Reads the
sources (no import): each `M_("code", "English text", ...)` and `Message("code", ...)`
with a literal code; tests/test_api_codes.py fails when docs/api.md lacks one.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "crmroi"
AREAS = {
    "attribution": "Attribution notes",
    "casework": "Business case: notes",
    "cli": "Command line (printed text)",
    "finance": "Business case: checks, warnings, notes",
    "improve": "Follow-ups and improvement tools",
    "ingest": "Imports: refusals and notes",
    "kpi": "KPIs: why unavailable, baseline notes",
    "reports": "Reports",
    "store": "Import history and undo",
    "web": "Web app and API: notes, flashes, errors",
}


def message_codes(source: Path = SOURCE) -> dict[str, tuple[str, str]]:
    """Every literal message code -> (module path, English text or '(worded by the caller)')."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            if getattr(node.func, "id", None) not in ("M_", "Message"):
                continue
            code, text = node.args[0], node.args[1]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                words = text.value if isinstance(text, ast.Constant) else "(worded by the caller)"
                found.setdefault(code.value, (str(path.relative_to(source)), str(words)))
    return found


def table() -> str:
    groups: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    for code, (where, text) in sorted(message_codes().items()):
        groups[where.split("/")[0]].append((code, text, where))
    out = []
    for group in sorted(groups):
        out.append(f"\n### {AREAS.get(group, group)}\n")
        out.append("| code | English text | where |\n|---|---|---|")
        for code, text, where in groups[group]:
            out.append(f"| `{code}` | {text.replace('|', chr(92) + '|')} | `{where}` |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(table(), end="")
