"""Bounded YAML: aliases, nesting depth and expanded size are capped while composing.

A few hundred bytes of nested aliases ("billion laughs") stand for billions of values once
anything walks the data (validation, line indexing), and deep nesting exhausts the stack.
:class:`GuardedComposer` is mixed into every loader crmroi uses, so every YAML text the
product reads (mapping files, presets, case files, form fields) is checked before use.
The limits are :class:`crmroi.limits.InputLimits` settings.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.error import MarkedYAMLError

from crmroi.limits import current_limits

__all__ = ["GuardedComposer", "YamlLimitError"]


class YamlLimitError(MarkedYAMLError):
    """A YAML text over one of the input limits (a `yaml.YAMLError`, so callers report it)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)

    def __str__(self) -> str:
        where = f" (line {self.problem_mark.line + 1})" if self.problem_mark else ""
        return f"{self.problem}{where}"


class GuardedComposer:
    """Mixin for a PyYAML loader: refuses too many aliases, too deep or too large documents."""

    _guard_depth = 0
    _guard_aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        limits = current_limits()
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            self._guard_aliases += 1
            if self._guard_aliases > limits.yaml_max_aliases:
                raise YamlLimitError(
                    f"more than {limits.yaml_max_aliases} YAML aliases (*name) "
                    "(setting CRMROI_YAML_MAX_ALIASES)",
                    event.start_mark,
                )
        self._guard_depth += 1
        try:
            if self._guard_depth > limits.yaml_max_depth:
                raise YamlLimitError(
                    f"YAML nested deeper than {limits.yaml_max_depth} levels "
                    "(setting CRMROI_YAML_MAX_DEPTH)",
                    event.start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._guard_depth -= 1

    def compose_document(self) -> Any:
        self._guard_depth = 0
        self._guard_aliases = 0
        node = super().compose_document()  # type: ignore[misc]
        if node is not None:
            _check_expanded(node)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expanded(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand past the node or depth limit, or loop."""
    limits = current_limits()
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_.discard(key)
            if size[key] > limits.yaml_max_nodes:
                raise YamlLimitError(
                    f"the YAML expands to more than {limits.yaml_max_nodes:,} values "
                    "(setting CRMROI_YAML_MAX_NODES)",
                    node.start_mark,
                )
            if depth[key] > limits.yaml_max_depth:
                raise YamlLimitError(
                    f"YAML nested deeper than {limits.yaml_max_depth} levels once its aliases "
                    "are expanded (setting CRMROI_YAML_MAX_DEPTH)",
                    node.start_mark,
                )
            continue
        if key in size:
            continue
        if key in open_:
            raise YamlLimitError("a YAML alias refers to a value containing it", node.start_mark)
        open_.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in open_:
                raise YamlLimitError("a YAML alias refers to a value containing it", kid.start_mark)
            if id(kid) not in size:
                stack.append((kid, False))
