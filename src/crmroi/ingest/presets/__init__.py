"""Vendor presets: mapping files for the standard exports of well-known CRMs.

Each preset is a YAML mapping file (see `crmroi.ingest.mapping`) shipped inside
the package; `load_preset("salesforce")` reads and validates it.
"""

from __future__ import annotations

import importlib.resources
from functools import lru_cache

from crmroi.errors import MappingError
from crmroi.ingest.mapping import MappingFile, parse_mapping
from crmroi.ingest.refusals import unknown_preset

PRESETS: tuple[str, ...] = (
    "salesforce", "hubspot", "pipedrive", "odoo", "bitrix24", "amocrm", "baselines", "logins",
)  # fmt: skip

__all__ = ["PRESETS", "load_preset"]


def load_preset(name: str) -> MappingFile:
    """The validated mapping of the vendor preset `name` (case-insensitive)."""
    key = name.strip().casefold()
    if key not in PRESETS:
        raise MappingError(unknown_preset(name, list(PRESETS)))
    return _load(key)


@lru_cache(maxsize=len(PRESETS))
def _load(key: str) -> MappingFile:
    resource = importlib.resources.files(__name__).joinpath(f"{key}.yaml")
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as exc:  # a broken installation, not a user error
        raise MappingError(f"preset {key!r} is missing from the installation ({exc})") from None
    return parse_mapping(text, f"{key}.yaml")
