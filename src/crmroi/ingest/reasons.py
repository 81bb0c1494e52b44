"""Why the importer refuses a row, as messages (`crmroi.messages`): a stable code, the
English text (unchanged) and parameters, so the import wizard words each reason in the
reader's language and the API gives the code beside the text.

`CELL` and `CELL_REPR` stand for the refused cell until `rejects.reason_text` puts it in.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence

from crmroi.ingest.rejects import CELL, CELL_REPR
from crmroi.messages import M_, Items, Message, Month, Said
from crmroi.store.schema import Column

__all__ = [
    "NOT_A_DATE",
    "NOT_A_NUMBER",
    "NOT_BOOLEAN",
    "NOT_UTF8_ROW",
    "NOT_WHOLE",
    "NO_ID",
    "duplicate_id",
    "empty",
    "month_given_twice",
    "no_fx_rate",
    "not_a_choice",
    "not_in_value_map",
    "not_month_start",
    "nothing_to_update",
    "wrong_field_count",
]

NO_ID = M_("import_no_id", "row has no id")
NOT_A_NUMBER = M_("import_not_a_number", "cannot read %(value)s as a number", value=CELL_REPR)
NOT_WHOLE = M_("import_not_whole", "%(value)s is not a whole number", value=CELL_REPR)
NOT_A_DATE = M_("import_not_a_date", "cannot read %(value)s as a date", value=CELL_REPR)
NOT_UTF8_ROW = M_(
    "import_not_utf8_row",
    "this row holds bytes that are not UTF-8, unlike the rest of the file (another program "
    "wrote it in another encoding), so its text cannot be read exactly; save the whole file "
    "as UTF-8 and import it again",
)
NOT_BOOLEAN = M_("import_not_boolean", "cannot read %(value)s as true/false", value=CELL_REPR)


def empty(column: str) -> Message:
    """A required column left empty."""
    return M_("import_empty", "%(column)s is empty", column=column)


def no_fx_rate(base_currency: str) -> Message:
    """No exchange rate for the row's currency (`CELL`) into the base currency."""
    return M_(
        "import_no_fx_rate",
        "no exchange rate for %(currency)s into %(base)s (import fx_rates first)",
        currency=CELL,
        base=base_currency,
    )


def not_in_value_map(column: str, source: str) -> Message:
    """A value the mapping's strict value map does not list."""
    return M_(
        "import_value_not_in_map",
        "%(column)s: %(value)s is not one of the mapping's values for %(source)s",
        column=column,
        value=CELL_REPR,
        source=repr(source),
    )


def duplicate_id(key: object, kept: int) -> str:
    """A row repeating the id of a later row (which is kept), as text that remembers it."""
    return Said(
        M_(
            "import_duplicate_id",
            "duplicate id %(id)s: row %(row)s has the same id and was kept",
            id=repr(key),
            row=str(kept),
        )
    )


def wrong_field_count(fields: int, width: int) -> str:
    """A CSV row with more fields than the header, as text that remembers the message."""
    return Said(
        M_(
            "import_field_count",
            "row has %(fields)s fields, header has %(width)s",
            fields=str(fields),
            width=str(width),
        )
    )


def not_a_choice(col: Column, value: str) -> Message:
    """A cell holding none of `col`'s choices (`CELL_REPR`), naming the closest valid value
    when one is close (always, when the choices are too many to list)."""
    close = difflib.get_close_matches(value, col.choices, n=1, cutoff=0.6)
    hint: Message | str = (
        M_("import_did_you_mean", "; did you mean %(value)s?", value=repr(close[0]))
        if close
        else ""
    )
    if len(col.choices) > 12:  # the list is not printed: always name the closest
        if not close:
            nearest = difflib.get_close_matches(value, col.choices, n=1, cutoff=0.0)
            if nearest:
                hint = M_(
                    "import_closest_spelling",
                    "; the closest by spelling is %(value)s",
                    value=repr(nearest[0]),
                )
        return M_(
            "import_not_valid_choice",
            "%(column)s %(value)s is not a valid %(column)s%(hint)s (%(n)s valid)",
            column=col.name,
            value=CELL_REPR,
            hint=hint,
            n=str(len(col.choices)),
        )
    return M_(
        "import_not_a_choice",
        "%(column)s %(value)s is not one of %(choices)s%(hint)s",
        column=col.name,
        value=CELL_REPR,
        choices=Items(col.choices),
        hint=hint,
    )


def nothing_to_update(entity: str, source_id: object, missing: Sequence[str]) -> str:
    """A row of a partial file whose stored row is not there to update."""
    return Said(
        M_(
            "import_nothing_to_update",
            "no stored %(table)s row %(id)s to update, and this partial file has no %(columns)s",
            table=entity,
            id=repr(source_id),
            columns=Items(missing),
        )
    )


def not_month_start(day: dt.date) -> str:
    """A supplied baseline dated on another day than the first of a month."""
    return Said(
        M_(
            "import_baseline_not_month_start",
            "%(day)s is not the first day of a month (a supplied baseline is one value per "
            "month: give %(first)s)",
            day=day.isoformat(),
            first=day.replace(day=1).isoformat(),
        )
    )


def month_given_twice(kpi: str, month: dt.date, rows: str) -> str:
    """A supplied baseline given twice for one KPI and month (`rows`: the rows, listed)."""
    return Said(
        M_(
            "import_baseline_month_twice",
            "%(kpi)s for %(month)s is given in rows %(rows)s: give one value a month",
            kpi=kpi,
            month=Month(month),
            rows=rows,
        )
    )
