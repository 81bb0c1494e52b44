"""The business case as HTML form fields, and form fields back to case.yaml data.

The fields are derived from the pydantic models of `crmroi.finance.case` (and the
benefit drivers), so a field added to a model shows up in the editor without a change
here. Every input is named by its YAML path, `costs.0.amount`; an estimate (a number
or a `{low, likely, high}` range) has three inputs, `costs.0.amount~low`, `~likely`
and `~high`. A value typed into a field is read like the same value typed into
case.yaml (a YAML scalar), except text fields, which are kept as typed. An empty
field is left out, so the model's default applies.

Validation is the case file's own: `validate_form` builds the YAML text from the
form and accepts it only when `case_from_text` (what `CaseLibrary.save` and
`crmroi roi` use) accepts it; errors are attached to the field they name.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ValidationError

from crmroi.errors import ConfigurationError
from crmroi.finance.case import Case, case_problems
from crmroi.finance.case_errors import case_error_messages
from crmroi.finance.drivers import DRIVER_KINDS, Driver
from crmroi.finance.estimates import Range
from crmroi.ingest.yaml_lines import Yaml12Loader
from crmroi.messages import M_, Message

Widget = Literal["text", "estimate", "select", "bool", "lines", "yaml"]
PARTS = ("low", "likely", "high")
LEVEL = "level"  # a range's interval level: kept through the editor in a hidden input
LIST_SECTIONS = ("costs", "benefits", "do_nothing")
_SKIP = object()  # a field left empty: the model's default applies


@dataclass
class Field:
    """One input (or, for an estimate, three) of the editor."""

    key: str
    label: str
    widget: Widget
    options: tuple[str, ...] = ()
    value: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    help: str = ""
    required: bool = False
    error: str = ""
    """The field's errors in English, '; ' between them (`messages` word them)."""
    messages: list[Message] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return dom_id(self.key)


@dataclass
class Group:
    """A model's fields: the case's general settings, a nested model, or one list row."""

    key: str
    title: str
    fields: list[Field] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    error: str = ""
    messages: list[Message] = field(default_factory=list)
    heading: Message | None = None
    """A list row's title without its name ('Cost 3'), for the page's language."""
    name: str = ""
    """A list row's own name (data, shown untranslated after the heading)."""

    def all_fields(self) -> Iterable[Field]:
        yield from self.fields
        for g in self.groups:
            yield from g.all_fields()


@dataclass
class CaseForm:
    """The whole editor: general settings, nested settings, the three lists, errors."""

    general: Group
    costs_mode: str
    sections: dict[str, list[Group]]
    general_errors: list[Message | str] = field(default_factory=list)
    """Errors no field or row names (messages, worded in the page's language)."""

    def groups(self) -> Iterable[Group]:
        yield self.general
        for rows in self.sections.values():
            yield from rows

    def fields(self) -> dict[str, Field]:
        return {f.key: f for g in self.groups() for f in g.all_fields()}

    @property
    def has_errors(self) -> bool:
        return bool(self.general_errors) or any(f.error for f in self.fields().values())


def dom_id(key: str) -> str:
    """An HTML id for a field key (dots and tildes are awkward in CSS selectors)."""
    return "f-" + key.replace(".", "-").replace("~", "-")


# -- annotations ---------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    widget: Widget | Literal["group", "rows"]
    options: tuple[str, ...] = ()
    optional: bool = False
    raw_text: bool = False
    model: type[BaseModel] | None = None


def _members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        out: tuple[Any, ...] = ()
        for arg in typing.get_args(annotation):
            out += _members(arg)
        return out
    return (annotation,)


def classify(annotation: Any) -> Kind:
    """Which widget edits a value of this type."""
    members = _members(annotation)
    optional = type(None) in members
    members = tuple(m for m in members if m is not type(None))
    words = tuple(
        str(v) for m in members if typing.get_origin(m) is Literal for v in typing.get_args(m)
    )
    others = [m for m in members if typing.get_origin(m) is not Literal]
    if Range in others:
        return Kind("estimate", words, optional)
    if not others:
        return Kind("select", words, optional)
    first = others[0]
    if first is bool:
        return Kind("bool", (), optional)
    if isinstance(first, type) and issubclass(first, BaseModel):
        return Kind("group", (), optional, model=first)
    if typing.get_origin(first) is list:
        (item,) = typing.get_args(first) or (Any,)
        models = [m for m in _members(item) if isinstance(m, type) and issubclass(m, BaseModel)]
        if models and len(models) == len(_members(item)):
            return Kind("rows", words, optional, model=models[0] if len(models) == 1 else None)
        if item is str:
            return Kind("lines", (), optional)
        return Kind("yaml", (), optional)
    return Kind("text", words, optional, raw_text=first is str)


def driver_class(kind: object) -> type[BaseModel] | None:
    """The driver model of a benefit `kind` (None when the kind is unknown)."""
    for member in _members(Driver):
        fields = getattr(member, "model_fields", {})
        if "kind" in fields and kind in typing.get_args(fields["kind"].annotation):
            return typing.cast(type[BaseModel], member)
    return None


def _field_names(model: type[BaseModel]) -> list[tuple[str, Any]]:
    """(YAML key, pydantic FieldInfo) in declaration order; aliases are the YAML keys."""
    return [(info.alias or name, info) for name, info in model.model_fields.items()]


# -- data -> form ---------------------------------------------------------------------
def scalar_text(value: Any) -> str:
    """A value as one would type it in case.yaml."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e16 else str(int(value))
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return str(value)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field(key: str, name: str, info: Any, kind: Kind, value: Any) -> Field:
    f = Field(
        key=key,
        label=_label(name),
        widget=kind.widget,  # type: ignore[arg-type]
        options=kind.options,
        help=info.description or "",
        required=info.is_required(),
    )
    if kind.widget == "estimate":
        if isinstance(value, Mapping):
            f.parts = {p: scalar_text(value.get(p)) for p in PARTS}
            if value.get(LEVEL) is not None:
                f.parts[LEVEL] = scalar_text(value.get(LEVEL))
        else:
            f.parts = {"low": "", "likely": scalar_text(value), "high": ""}
    elif kind.widget == "lines":
        items = value if isinstance(value, list) else ([] if value is None else [value])
        f.value = "\n".join(scalar_text(v) for v in items)
    elif kind.widget == "select" and kind.optional:
        f.options = ("", *kind.options)
        f.value = scalar_text(value)
    else:
        f.value = scalar_text(value)
    return f


def group_for(model: type[BaseModel], data: Any, key: str, title: str) -> Group:
    """The fields of `model` filled from `data` (raw YAML data, valid or not)."""
    values = data if isinstance(data, Mapping) else {}
    group = Group(key=key, title=title)
    for name, info in _field_names(model):
        sub = f"{key}.{name}" if key else name
        kind = classify(info.annotation)
        if kind.widget == "group" and kind.model is not None:
            group.groups.append(group_for(kind.model, values.get(name), sub, _label(name)))
        elif kind.widget != "rows":
            group.fields.append(_field(sub, name, info, kind, values.get(name)))
    return group


def _row_heading(section: str, index: int) -> Message:
    """'Cost 3', 'Benefit 1', 'Avoided loss 2' as a message (1-based row number)."""
    n = index + 1
    if section == "costs":
        return M_("case_row_cost", "Cost %(n)s", n=n)
    if section == "benefits":
        return M_("case_row_benefit", "Benefit %(n)s", n=n)
    return M_("case_row_avoided_loss", "Avoided loss %(n)s", n=n)


def _row_name(item: Any) -> str:
    name = item.get("name") if isinstance(item, Mapping) else None
    return str(name) if name else ""


def _row_title(section: str, index: int, item: Any) -> str:
    name = _row_name(item)
    return str(_row_heading(section, index)) + (f": {name}" if name else "")


def _row_group(section: str, index: int, item: Any) -> Group:
    group = _row_fields(section, index, item)
    group.heading = _row_heading(section, index)
    group.name = _row_name(item)
    return group


def _row_fields(section: str, index: int, item: Any) -> Group:
    key = f"{section}.{index}"
    title = _row_title(section, index, item)
    if section == "benefits":
        kind = item.get("kind") if isinstance(item, Mapping) else None
        model = driver_class(kind)
        if model is None:
            group = Group(key=key, title=title)
            group.fields.append(
                Field(
                    f"{key}.kind", "Kind", "select", DRIVER_KINDS, scalar_text(kind), required=True
                )
            )
            return group
        group = group_for(model, item, key, title)
        for f in group.fields:
            if f.key == f"{key}.kind":
                f.options = DRIVER_KINDS  # changing the kind re-renders the row
        group.fields.sort(key=lambda f: f.key != f"{key}.kind")
        return group
    row_model = classify(Case.model_fields[section].annotation).model
    assert row_model is not None
    return group_for(row_model, item, key, title)


def form_from_data(data: Any) -> CaseForm:
    """The editor filled from case data (a dict as loaded from case.yaml)."""
    values = data if isinstance(data, Mapping) else {}
    general = group_for(Case, values, "", "General")
    sections: dict[str, list[Group]] = {}
    for section in LIST_SECTIONS:
        items = values.get(section)
        rows = items if isinstance(items, list) else []
        sections[section] = [_row_group(section, i, item) for i, item in enumerate(rows)]
    mode = "actual" if values.get("costs") == "actual" else "items"
    return CaseForm(general=general, costs_mode=mode, sections=sections)


def form_from_text(text: str) -> CaseForm:
    """The editor for case.yaml text (empty when the text is not a YAML mapping)."""
    try:
        data = yaml.load(text, Loader=Yaml12Loader)
    except yaml.YAMLError:
        data = None
    return form_from_data(data if isinstance(data, dict) else {})


# -- form -> data ---------------------------------------------------------------------
def _nest(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a.0.b~low=1` pairs into nested dicts ({'a': {'0': {'b': {'~low': '1'}}}})."""
    root: dict[str, Any] = {}
    for key, value in items:
        if not key or key in ("csrf_token", "action", "save_as", "tab"):
            continue
        path, _, part = key.partition("~")
        node = root
        names = path.split(".")
        for name in names[:-1]:
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        last = names[-1]
        if part:
            slot = node.setdefault(last, {})
            if isinstance(slot, dict):
                slot[f"~{part}"] = value
        else:
            node[last] = value
    return root


def _scalar(text: str) -> Any:
    """A typed value read like YAML: numbers, dates, true/false, words."""
    text = text.strip()
    try:
        value = yaml.load(text, Loader=Yaml12Loader)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, dict | list) or value is None else value


def _coerce_value(kind: Kind, raw: Any) -> Any:
    if kind.widget == "estimate":
        parts = raw if isinstance(raw, dict) else {"~likely": raw}
        given = {p: str(parts.get(f"~{p}", "")).strip() for p in PARTS}
        if not any(given.values()):
            return _SKIP
        if not given["low"] and not given["high"]:
            return _scalar(given["likely"])
        level = str(parts.get(f"~{LEVEL}", "")).strip()
        return {p: _scalar(v) for p, v in {**given, LEVEL: level}.items() if v}
    if not isinstance(raw, str):
        return _SKIP
    if kind.widget == "lines":
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        return lines or _SKIP
    if not raw.strip():
        return _SKIP
    if kind.widget == "bool":
        return {"true": True, "false": False}.get(raw.strip().lower(), raw.strip())
    if kind.widget == "select" or kind.raw_text:
        return raw.strip()
    if kind.widget == "yaml":
        try:
            return yaml.load(raw, Loader=Yaml12Loader)
        except yaml.YAMLError:
            return raw
    return _scalar(raw)


def _coerce_model(model: type[BaseModel], raw: Any) -> dict[str, Any]:
    values = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = {}
    for name, info in _field_names(model):
        if name not in values:
            continue
        kind = classify(info.annotation)
        if kind.widget == "group" and kind.model is not None:
            sub = _coerce_model(kind.model, values[name])
            if sub:
                out[name] = sub
            continue
        if kind.widget == "rows":
            continue
        value = _coerce_value(kind, values[name])
        if value is not _SKIP:
            out[name] = value
    return out


def _rows(raw: Any) -> list[Any]:
    if not isinstance(raw, dict):
        return []
    indexed = sorted((int(k), v) for k, v in raw.items() if k.isdigit() and len(k) < 6)
    return [v for _, v in indexed]


def data_from_form(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Case data (as case.yaml would hold it) from the editor's posted fields."""
    raw = _nest(items)
    data = _coerce_model(Case, raw)
    out: dict[str, Any] = {}
    for name, _ in _field_names(Case):
        if name == "costs" and raw.get("costs_mode") == "actual":
            out["costs"] = "actual"
        elif name in LIST_SECTIONS:
            out[name] = [_coerce_row(name, row) for row in _rows(raw.get(name))]
        elif name in data:
            out[name] = data[name]
    return out


def _coerce_row(section: str, raw: Any) -> dict[str, Any]:
    if section == "benefits":
        kind = raw.get("kind") if isinstance(raw, dict) else ""
        kind = kind.strip() if isinstance(kind, str) else ""
        model = driver_class(kind)
        if model is None:
            return {"kind": kind} if kind else {}
        return _coerce_model(model, raw)
    row_model = classify(Case.model_fields[section].annotation).model
    assert row_model is not None
    return _coerce_model(row_model, raw)


def case_yaml(data: Mapping[str, Any]) -> str:
    """case.yaml text of case data: block style, ranges on one line, keys in model order."""
    return yaml.safe_dump(
        dict(data), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )


# -- structural edits -----------------------------------------------------------------
def apply_action(data: dict[str, Any], action: str) -> dict[str, Any]:
    """Add or remove a row: `add:costs`, `remove:benefits.2` (anything else: no change)."""
    verb, _, target = action.partition(":")
    section, _, index = target.partition(".")
    if section not in LIST_SECTIONS:
        return data
    rows = data.get(section)
    rows = list(rows) if isinstance(rows, list) else []
    if verb == "add":
        new: dict[str, Any] = {
            "costs": {"category": "licence", "kind": "recurring", "amount": 0},
            "benefits": {"kind": "custom", "name": f"benefit {len(rows) + 1}", "change": 0},
            "do_nothing": {"name": f"avoided loss {len(rows) + 1}", "amount": 0},
        }[section]
        rows.append(new)
    elif verb == "remove" and index.isdigit() and int(index) < len(rows):
        del rows[int(index)]
    return {**data, section: rows}


# -- validation -------------------------------------------------------------------------
@dataclass
class Checked:
    """The outcome of checking form data: the YAML text, or the form with its errors."""

    data: dict[str, Any]
    text: str
    form: CaseForm
    case: Case | None


def _attach(form: CaseForm, loc: tuple[Any, ...], message: Message) -> None:
    """`message` beside the field or row `loc` names, else among the form's own errors."""
    fields = form.fields()
    groups = {g.key: g for g in form.groups()}
    path = [str(p) for p in loc]
    while path:
        key = ".".join(path)
        if key in fields:
            f = fields[key]
            f.error = f"{f.error}; {message}" if f.error else str(message)
            f.messages.append(message)
            return
        if key in groups and key:
            g = groups[key]
            g.error = f"{g.error}; {message}" if g.error else str(message)
            g.messages.append(message)
            return
        path.pop()
    where = ".".join(str(p) for p in loc)
    if where:
        message = M_("case_error_at", "%(where)s: %(reason)s", where=where, reason=message)
    form.general_errors.append(message)


def check_data(data: dict[str, Any], source: str = "case.yaml") -> Checked:
    """Validate case data with the case file's models; errors go next to their fields,
    as messages (a stable code, worded in the page's language)."""
    from crmroi.web.case_library import case_from_text

    text = case_yaml(data)
    form = form_from_data(data)
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        for loc, message in case_error_messages(exc):
            _attach(form, loc, message)
        return Checked(data, text, form, None)
    problems = case_problems(case)
    for loc, message in problems:
        _attach(form, loc, message)
    if problems:
        return Checked(data, text, form, None)
    try:
        case = case_from_text(text, source)
    except ConfigurationError as exc:  # the written YAML must read back the same way
        first = exc.args[0] if exc.args else ""
        form.general_errors.append(first if isinstance(first, Message) else str(exc))
        return Checked(data, text, form, None)
    return Checked(data, text, form, case)


def form_items(form: CaseForm) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser posts for `form` (tests and round trips)."""
    items: list[tuple[str, str]] = [("costs_mode", form.costs_mode)]
    for f in form.fields().values():
        if f.widget == "estimate":
            items += [(f"{f.key}~{p}", f.parts.get(p, "")) for p in PARTS]
            if f.parts.get(LEVEL):
                items.append((f"{f.key}~{LEVEL}", f.parts[LEVEL]))
        else:
            items.append((f.key, f.value))
    return items
