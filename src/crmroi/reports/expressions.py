"""A line's amount as a spreadsheet expression of its inputs, read off the engine's own formula.

The finance engine computes each line's money per month with a plain Python function of
its inputs (`Line.formula`, arithmetic only). Calling that function with `Sym` objects
instead of numbers records the arithmetic as text, e.g.
`{opportunities_per_month}*{change}*{avg_deal_size}*{gross_margin}`, so the workbook's
formula is the engine's formula, not a second hand-written copy. The `{name}`
placeholders are replaced by cell references when the workbook is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Sym", "expression_of"]


def _text(value: Any) -> str:
    if isinstance(value, Sym):
        return value.text
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not arithmetic: {value!r}")
    return repr(float(value))


class Sym:
    """A symbolic number: arithmetic on it builds the expression's text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def _bin(self, op: str, other: Any, reflected: bool = False) -> Sym:
        a, b = (_text(other), self.text) if reflected else (self.text, _text(other))
        return Sym(f"({a}{op}{b})")

    def __add__(self, other: Any) -> Sym:
        return self._bin("+", other)

    def __radd__(self, other: Any) -> Sym:
        return self._bin("+", other, True)

    def __sub__(self, other: Any) -> Sym:
        return self._bin("-", other)

    def __rsub__(self, other: Any) -> Sym:
        return self._bin("-", other, True)

    def __mul__(self, other: Any) -> Sym:
        return self._bin("*", other)

    def __rmul__(self, other: Any) -> Sym:
        return self._bin("*", other, True)

    def __truediv__(self, other: Any) -> Sym:
        return self._bin("/", other)

    def __rtruediv__(self, other: Any) -> Sym:
        return self._bin("/", other, True)

    def __neg__(self) -> Sym:
        return Sym(f"(-{self.text})")


def expression_of(formula: Callable[[Mapping[str, Any]], Any], names: list[str]) -> str | None:
    """`formula` of the inputs `names` as text with `{name}` placeholders (None: not arithmetic)."""
    try:
        out = formula({n: Sym("{" + n + "}") for n in names})
    except (TypeError, KeyError, ValueError):
        return None
    return out.text if isinstance(out, Sym) else None
