"""Load YAML while remembering the line of every key, so validation errors can name it.

Pydantic reports an error location as a path such as ("tables", 0, "columns",
"deal_id"); `LineIndex.line_for` turns that path into the line of the YAML file
where the offending value stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crmroi.yaml_guard import GuardedComposer

Path_ = tuple[str | int, ...]


class Yaml12Loader(GuardedComposer, yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so `Yes: true` keeps "Yes".

    Aliases, depth and expanded size are capped (`crmroi.yaml_guard`).

    YAML 1.1 turns yes/no/on/off/y/n into booleans, which silently breaks value
    maps such as `{Yes: true, No: false}` that CRM exports need.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class LineIndex:
    """YAML path -> 1-based line number."""

    lines: dict[Path_, int] = field(default_factory=dict)

    def line_for(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the longest prefix of `loc` that the YAML file contains."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def load_yaml_with_lines(text: str, source: str) -> tuple[Any, LineIndex]:
    """Parse YAML `text`; return the data and where each key stands.

    Raises `yaml.YAMLError` (with its own line information) on a syntax error.
    """
    node = yaml.compose(text, Loader=Yaml12Loader)
    index = LineIndex()
    if node is None:
        return None, index
    data = yaml.load(text, Loader=Yaml12Loader)
    for path, line in _walk(node, ()):
        index.lines[path] = line
    return data, index


def _walk(node: yaml.Node, path: Path_) -> Iterator[tuple[Path_, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            yield (*path, key), key_node.start_mark.line + 1
            for sub_path, line in _walk(value_node, (*path, key)):
                if sub_path != (*path, key):
                    yield sub_path, line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i))


def describe_validation_error(exc: ValidationError, index: LineIndex, source: str | Path) -> str:
    """One line per problem: 'FILE line N: tables.0.columns.deal_id: reason'."""
    name = Path(source).name
    parts = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = index.line_for(loc)
        where = ".".join(str(p) for p in loc) or "(top level)"
        at = f" line {line}" if line else ""
        parts.append(f"{name}{at}: {where}: {err['msg']}")
    return "; ".join(parts)
