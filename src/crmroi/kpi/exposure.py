"""Exposure: which deals were worked with the CRM, one definition for `kpis` and `attribute`.

A deal is *worked with the CRM* when the time it was first worked (its exposure
time) is at or after its team's go-live. Two views:

- "created" (the default): the exposure time is the deal's `created_at` (its
  `closed_at` when `created_at` is missing). A deal opened before go-live and closed
  after it was mostly worked without the CRM, so it is not an "after" deal.
- "closed": the exposure time is `closed_at` (every deal closing after go-live
  counts as an "after" deal, whatever its age).

Activities, leads, tickets and the other tables are placed by their own dates;
only deals have a life that straddles go-live. `worked_after` (Ibis, in the
database) and `worked_after_np` (numpy) give the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir
import numpy as np

from crmroi.errors import ConfigurationError
from crmroi.kpi.reasons import one_of

Exposure = Literal["created", "closed"]
EXPOSURES: tuple[str, ...] = get_args(Exposure)
DEFAULT_EXPOSURE: Exposure = "created"


def check_exposure(value: str) -> Exposure:
    """`value` as an Exposure, or a ConfigurationError naming the choices."""
    if value not in EXPOSURES:
        raise ConfigurationError(one_of("--exposure", EXPOSURES, value))
    return "created" if value == "created" else "closed"


def exposure_time(deals: ir.Table, exposure: Exposure = DEFAULT_EXPOSURE) -> ir.TimestampValue:
    """When each deal was first worked (timestamp): created_at (else closed_at) or closed_at."""
    closed = deals.closed_at.cast("timestamp")
    if check_exposure(exposure) == "closed":
        return closed
    return deals.created_at.cast("timestamp").coalesce(closed)


def team_go_live(
    team: ir.Value, go_live_by_team: Mapping[str, dt.date], default: dt.date
) -> ir.TimestampValue:
    """Each row's go-live (timestamp at midnight): its team's date, else `default`."""
    out: ir.Value = ibis.literal(dt.datetime.combine(default, dt.time()), type="timestamp")
    for name, day in sorted(go_live_by_team.items()):
        at = ibis.literal(dt.datetime.combine(day, dt.time()), type="timestamp")
        out = ibis.cases((team.cast("string") == name, at), else_=out)
    return out


def worked_after(
    deals: ir.Table, go_live: ir.TimestampValue, exposure: Exposure = DEFAULT_EXPOSURE
) -> ir.BooleanValue:
    """True where a deal was worked with the CRM: exposure time at or after `go_live`
    (a column or literal: the deal's team's go-live, e.g. from `team_go_live`).
    NULL where the exposure time is unknown (no created_at and no closed_at)."""
    return exposure_time(deals, exposure) >= go_live


def worked_after_np(
    created: np.ndarray,
    closed: np.ndarray,
    go_live: np.ndarray,
    exposure: Exposure = DEFAULT_EXPOSURE,
) -> np.ndarray:
    """`worked_after` on numpy datetime64 arrays (NaT: unknown, reads False)."""
    closed_t = np.asarray(closed, dtype="datetime64[us]")
    when = closed_t
    if check_exposure(exposure) == "created":
        created_t = np.asarray(created, dtype="datetime64[us]")
        when = np.where(np.isnat(created_t), closed_t, created_t)
    live = np.asarray(go_live, dtype="datetime64[us]")
    return np.asarray(~np.isnat(when) & (when >= live))
