"""Bitrix24 and amoCRM presets on exports written as those CRMs write them: Russian
labels, cp1251 or UTF-8, ';', DD.MM.YYYY HH:MM:SS, decimal commas, their won/lost
stage semantics; rows and the five sales KPIs checked against the generator's count."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest

from crmroi.ingest.pipeline import import_files
from crmroi.kpi import compute_kpi_report
from crmroi.store import Store

GO_LIVE = dt.date(2024, 1, 1)


@dataclass(frozen=True)
class Deal:
    id: int
    created: dt.datetime
    closed: dt.datetime | None
    outcome: str  # won, lost, open
    amount: float


def deals(seed: int, n: int = 120) -> list[Deal]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        created = dt.datetime(2023, 1, 1, 10) + dt.timedelta(days=rng.randrange(0, 660))
        outcome = rng.choice(["won", "won", "lost", "lost", "lost", "open"])
        closed = None if outcome == "open" else created + dt.timedelta(days=rng.randrange(1, 90))
        out.append(Deal(i, created, closed, outcome, rng.randrange(100, 500_000) / 4))
    # deals created and closed before and after the two windows: the data covers both
    # windows whole (the KPI engine reports a partly covered window per covered month)
    out.append(Deal(n + 1, dt.datetime(2022, 11, 1, 9), dt.datetime(2022, 12, 1, 9), "lost", 10))
    out.append(Deal(n + 2, dt.datetime(2025, 1, 2, 9), dt.datetime(2025, 2, 1, 9), "lost", 10))
    return out


def ru_money(x: float) -> str:
    whole, frac = f"{x:,.2f}".split(".")
    return whole.replace(",", "\u00a0") + "," + frac


def ru_time(t: dt.datetime | None) -> str:
    return "" if t is None else t.strftime("%d.%m.%Y %H:%M:%S")


def expected_kpis(rows: list[Deal], start: dt.date, end: dt.date) -> dict[str, float]:
    """The five sales KPIs of one window, counted directly from the generated deals."""
    closed = [d for d in rows if d.closed is not None and start <= d.closed.date() < end]
    won = [d for d in closed if d.outcome == "won"]
    volume = sum(d.amount for d in won)
    return {
        "won_deals": len(won),
        "win_rate": len(won) / len(closed),
        "sales_volume": volume,
        "avg_deal_size": volume / len(won),
        "sales_cycle_days": statistics.median((d.closed - d.created).days for d in won),  # type: ignore[operator]
    }


def check_kpis(store: Store, rows: list[Deal]) -> None:
    report = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=0, kpis=list(KPIS))
    base = expected_kpis(rows, dt.date(2023, 1, 1), GO_LIVE)
    after = expected_kpis(rows, GO_LIVE, dt.date(2025, 1, 1))
    for name in KPIS:
        k = report.get(name)
        assert k.available, (name, k.reason)
        assert k.baseline == pytest.approx(base[name]), name
        assert k.after == pytest.approx(after[name]), name


KPIS = ("won_deals", "win_rate", "sales_volume", "avg_deal_size", "sales_cycle_days")

BITRIX_STAGES = {"won": "Сделка успешна", "lost": "Сделка провалена", "open": "В работе"}


def bitrix_export(rows: list[Deal], group: bool) -> str:
    head = ["ID", "Название сделки", "Стадия сделки", "Сделка закрыта", "Сумма", "Валюта"]
    head += ["Компания", "Ответственный", "Дата создания", "Предполагаемая дата закрытия"]
    if group:
        head.append("Группа стадий")
    lines = [";".join(f'"{h}"' for h in head)]
    for d in rows:
        stage = BITRIX_STAGES[d.outcome]
        if group and d.outcome == "won":
            stage = "Оплачено"  # a renamed success stage: the stage group says what it is
        cells = [str(d.id), f"Сделка №{d.id}", stage, "Нет" if d.outcome == "open" else "Да"]
        cells += [ru_money(d.amount), "RUB", f"ООО «Клиент {d.id % 7}»", "Иванов Иван"]
        cells += [ru_time(d.created), ru_time(d.closed)]
        if group:
            cells.append({"won": "Успешные", "lost": "Провалены", "open": "В работе"}[d.outcome])
        lines.append(";".join(f'"{c}"' for c in cells))
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(("encoding", "group"), [("cp1251", False), ("utf-8-sig", True)])
def test_bitrix24_deals_export(
    workspace: Store, tmp_path: Path, encoding: str, group: bool
) -> None:
    workspace.set_settings(base_currency="RUB")
    rows = deals(11)
    path = tmp_path / "DEAL_20250101.csv"
    path.write_bytes(bitrix_export(rows, group).encode(encoding))
    report = import_files(workspace, [path], source="bitrix24")
    assert report.rows_loaded == len(rows) and not report.rejects
    assert report.files[0].encoding in ("cp1251", "utf-8-sig", "utf-8")
    stored = {r["deal_id"]: r for r in workspace.to_arrow("deals").to_pylist()}
    d = rows[0]
    assert stored[str(d.id)]["amount"] == pytest.approx(d.amount)
    assert stored[str(d.id)]["created_at"] == d.created
    check_kpis(workspace, rows)


def test_bitrix24_refuses_a_custom_stage_without_the_stage_group(
    workspace: Store, tmp_path: Path
) -> None:
    workspace.set_settings(base_currency="RUB")
    rows = deals(5, 10)
    text = bitrix_export(rows, False).replace('"Сделка успешна"', '"Оплачено"')
    path = tmp_path / "deals.csv"
    path.write_bytes(text.encode("cp1251"))
    report = import_files(workspace, [path], source="bitrix24")
    won = sum(d.outcome == "won" for d in rows)
    assert report.rows_rejected == won > 0
    reasons = {r.reason for r in report.rejects}
    assert reasons == {"is_won: 'Оплачено' is not one of the mapping's values for 'Стадия сделки'"}


def amo_export(rows: list[Deal]) -> str:
    stages = {"won": "Успешно реализовано", "lost": "Закрыто и не реализовано"}
    head = "ID;Название сделки;Бюджет;Ответственный;Дата создания;Дата закрытия;Этап сделки;Воронка"
    lines = [head]
    for d in rows:
        stage = stages.get(
            d.outcome, random.Random(d.id).choice(["Переговоры", "Первичный контакт"])
        )
        budget = f"{d.amount:.2f}".replace(".", ",")
        cells = [str(d.id), f"Сделка #{d.id}", budget, "Мария", ru_time(d.created)]
        cells += [ru_time(d.closed), stage, "Основная воронка"]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


def test_amocrm_deals_export(workspace: Store, tmp_path: Path) -> None:
    workspace.set_settings(base_currency="RUB")
    rows = deals(23)
    path = tmp_path / "amocrm_export_leads_2025-01-01.csv"
    path.write_text(amo_export(rows), encoding="utf-8")
    report = import_files(workspace, [path], source="amocrm")
    assert report.rows_loaded == len(rows) and not report.rejects
    stages = {v.value: v.mapped for _, v in report.summary.values if v.column == "is_won"}
    assert stages["Успешно реализовано"] and not stages["Переговоры"]  # open by amoCRM's rule
    check_kpis(workspace, rows)
