"""The importer's warnings about a file it did import, as messages (`crmroi.messages`):
kept as a `Said` (plain English text in summaries, JSON and logs, as before), worded in
the reader's language by the import wizard, with a stable code.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmroi.messages import M_, Items, Message, Said

__all__ = [
    "ambiguous_links",
    "by_name",
    "garbled",
    "hashed_ids",
    "left_empty",
    "several_ids",
    "unlinked",
]


def garbled(
    file: str, bad: int, total: int, used: str, given: bool, tried: Sequence[str], shown: str
) -> str:
    """Words that look garbled in the encoding used (`given` by the user, else detected)."""
    how = (
        M_("import_encoding_given", "given")
        if given
        else M_("import_encoding_detected", "detected; tried %(tried)s", tried=Items(tried))
    )
    return Said(
        M_(
            "import_garbled",
            "%(file)s: %(bad)s of %(total)s words with non-ASCII letters look garbled when "
            "read as %(encoding)s (%(how)s), e.g. %(examples)s; if names look wrong, pass the "
            "file's encoding (crmroi import --encoding, or encoding: in the mapping's csv "
            "settings)",
            file=file,
            bad=str(bad),
            total=str(total),
            encoding=used,
            how=how,
            examples=shown,
        )
    )


def several_ids(file: str, count: int, source: str, entity: str, column: str, example: str) -> str:
    return Said(
        M_(
            "import_several_ids",
            "%(file)s: %(n)s cells of %(source)s (%(entity)s.%(column)s) hold several ids, "
            "e.g. %(example)s; the first id of each is kept",
            file=file,
            n=str(count),
            source=repr(source),
            entity=entity,
            column=column,
            example=repr(example),
        )
    )


def by_name(label: str, column: str) -> Message:
    """Where a link column was matched by the linked record's name."""
    return M_("import_by_name", "%(label)s (%(column)s by name)", label=label, column=column)


def unlinked(where: Message | str, rows: int, target: str, examples: str) -> str:
    return Said(
        M_(
            "import_unlinked",
            "%(where)s: %(n)s rows name a %(target)s record that neither this import nor the "
            "workspace has, e.g. %(examples)s; left unlinked",
            where=where,
            n=str(rows),
            target=target,
            examples=examples,
        )
    )


def ambiguous_links(where: Message | str, rows: int, target: str, examples: str) -> str:
    return Said(
        M_(
            "import_ambiguous_links",
            "%(where)s: %(n)s rows name a %(target)s record that several records share, e.g. "
            "%(examples)s; left unlinked (export the id column)",
            where=where,
            n=str(rows),
            target=target,
            examples=examples,
        )
    )


def hashed_ids(file: str, entity: str, looked: str) -> str:
    return Said(
        M_(
            "import_hashed_ids",
            "%(file)s: no id column for %(entity)s (looked for: %(looked)s); each row is keyed "
            "by a hash of its mapped values (row-...), so rows that differ are never taken for "
            "duplicates, but a re-import of an edited export cannot match its rows to these: "
            "changed rows are added again. Export the record id column to avoid this",
            file=file,
            entity=entity,
            looked=looked,
        )
    )


def left_empty(file: str, entity: str, column: str, looked: str) -> str:
    """A column the KPIs read that no column of the file fills (a preset's optional one)."""
    return Said(
        M_(
            "import_left_empty",
            "%(file)s: none of the columns %(looked)s is in the file, so %(entity)s.%(column)s "
            "is left empty and the KPIs that read it are unavailable; add the column to the "
            "export",
            file=file,
            looked=looked,
            entity=entity,
            column=column,
        )
    )
