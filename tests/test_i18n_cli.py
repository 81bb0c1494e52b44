"""The CLI speaks --lang or the locale: every command that prints text for people.

English is the message id and its numbers and dates are written as before; another
language words headings, labels and sentences from the catalogues with its own number
formats (Persian digits in fa, Solar Hijri dates). JSON and CSV output stays English.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_workspace

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
PERSIAN_DIGITS = re.compile(r"[۰-۹]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def run(*args: str | Path, locale: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_MESSAGES")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "LC_ALL": locale})
    env.pop("CRMROI_DEFAULT_LANGUAGE", None)
    out = subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out


def test_undo_history_in_russian_and_english(small_demo_folder: Path) -> None:
    english = run("undo", small_demo_folder).stdout
    assert "Import history (newest first)" in english and "started (UTC)" in english
    assert not CYRILLIC.search(english)
    assert run("undo", small_demo_folder, "--lang", "en", locale="ru_RU.UTF-8").stdout == english
    russian = run("undo", small_demo_folder, "--lang", "ru").stdout
    assert "История импорта (сначала новые)" in russian and "загружен" in russian
    assert "Import history" not in russian


def test_followups_follow_the_locale(small_demo_folder: Path) -> None:
    english = run("followups", small_demo_folder, "--limit", "5").stdout
    assert re.search(r"Follow-ups for \d{4}-\d\d-\d\d: \d+ overdue task", english)
    assert "... and " in english and "key-person risk: " in english.replace("Key", "key")
    persian = run("followups", small_demo_folder, "--limit", "5", locale="fa_IR.UTF-8").stdout
    assert "پیگیری‌های" in persian and "وظیفه معوق" in persian
    assert "ریسک فرد کلیدی" in persian and PERSIAN_DIGITS.search(persian)
    for english_text in ("Follow-ups for", "nothing logged since", "key-person", "more (use"):
        assert english_text not in persian, english_text


def test_json_stays_english_with_codes(small_demo_folder: Path) -> None:
    english = run("followups", small_demo_folder, "--format", "json").stdout
    assert run("followups", small_demo_folder, "--format", "json", "--lang", "ru").stdout == english
    doc = json.loads(english)
    assert doc["items"] and "language" not in doc
    assert all(item["detail_code"] for item in doc["items"])
    assert "key-person risk" in doc["key_person"]["summary"]


def test_forecast_in_chinese(small_demo_folder: Path) -> None:
    text = run("forecast", small_demo_folder, "--no-backtest", "--months", "2", "--lang", "zh")
    assert "销售管道预测" in text.stdout and "未结交易" in text.stdout
    assert "Pipeline forecast" not in text.stdout


def test_kpis_table_in_persian_digits(small_demo_folder: Path) -> None:
    text = run("kpis", small_demo_folder, "--bootstrap", "0", "--lang", "fa").stdout
    assert re.search(r"۱۲٫۰/۱۲ \| [۰-۹]+٫[۰-۹]/۱۲", text)  # covered months
    assert re.search(r"[۰-۹]+٫[۰-۹]٪", text)  # a win rate
    rows = [line for line in text.splitlines() if "٪" in line]
    assert rows and [line for line in rows if re.search(r"[0-9]", line)] == []  # no Latin digit
    english = run("kpis", small_demo_folder, "--bootstrap", "0").stdout
    assert re.search(r"12\.0/12 \| \d+\.\d/12", english) and not PERSIAN_DIGITS.search(english)


def test_users_in_bulgarian(small_demo_folder: Path, tmp_path: Path) -> None:
    ws = copy_workspace(small_demo_folder, tmp_path / "ws")
    added = run("users", ws, "add", "ana", "--role", "analyst", "--generate", "--lang", "bg")
    assert "Добавен е ana" in added.stdout and "Парола (показва се веднъж):" in added.stdout
    english = run("users", ws).stdout
    assert "Users" in english and "analyst" in english
    listed = run("users", ws, "--lang", "bg").stdout
    assert "Потребители" in listed or CYRILLIC.search(listed)


@pytest.mark.parametrize("code", ["ru", "bg", "fa", "zh"])
def test_attribute_headings_in_each_language(small_demo_folder: Path, code: str) -> None:
    text = run("attribute", small_demo_folder, "--kpi", "won_deals", "--lang", code).stdout
    assert "What the CRM caused" not in text and "Bold effects" not in text
    assert "won_deals" not in text  # the KPI by its name in the language


def test_roi_in_russian(small_demo_folder: Path) -> None:
    case = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"
    args = ("roi", case, "--workspace", small_demo_folder, "--simulate", "100")
    english = run(*args).stdout
    assert "Cash flows by category (before risk adjustment)" in english
    assert re.search(r"warning \(\w+\): ", english) or "check (" in english
    russian = run(*args, "--lang", "ru").stdout
    for text in ("Денежные потоки по статьям", "окупаемость (мес.)", "Торнадо: размах NPV"):
        assert text in russian, text
    for text in ("Cash flows by category", "payback (months)", "Probability that ROI"):
        assert text not in russian, text


def test_segments_score_and_clv_in_persian(small_demo_folder: Path) -> None:
    segments = run("segments", small_demo_folder, "--by", "industry", "--lang", "fa").stdout
    assert "به تفکیک" in segments and "۹۵٪" in segments and "By industry" not in segments
    assert re.search(r"[۰-۹]+٪ \([۰-۹]+٪-[۰-۹]+٪\)", segments)  # win rate and its interval
    clv = run("clv", small_demo_folder, "--top", "3", "--lang", "fa").stdout
    assert "مشتری برتر" in clv and "For the business case" not in clv
    english = run("clv", small_demo_folder, "--top", "3").stdout
    assert "Top 3 customers" in english and "For the business case" in english
