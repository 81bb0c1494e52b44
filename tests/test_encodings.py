"""Encoding detection weighs Western encodings against cp1251 and GBK by script plausibility,
warns about garbled words, and an explicit encoding overrides detection and presets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.errors import InputFileError
from crmroi.ingest.encodings import garbled_words, guess_encoding, with_encoding
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.pipeline import import_files, resolve_mapping
from crmroi.ingest.reading import read_raw
from crmroi.store import Store

# A Pipedrive "Deals" list export (UI labels) of a German company, as Excel on Windows saves it.
PIPEDRIVE_DE = (
    "Deal - ID;Deal - Title;Deal - Organization;Deal - Owner;Deal - Value;Deal - Currency;"
    "Deal - Status;Deal - Deal created;Deal - Deal closed on\n"
    "1;Rahmenvertrag 2024;Müller & Söhne GmbH;Jürgen Weiß;1.000,50;EUR;won;2024-01-05;2024-02-01\n"
    "2;Wartung Büro Köln;Bäckerei Groß KG;Jürgen Weiß;250,00;EUR;lost;2024-01-09;2024-02-03\n"
    "3;Erstgespräch;Société Générale S.A.;Zoë Lefèvre;99,90;EUR;open;2024-01-12;\n"
)


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (PIPEDRIVE_DE, "cp1252", "cp1252"),
        ("Firma;Betrag\nMüller & Söhne;100 €\n", "iso-8859-15", "iso-8859-15"),
        ("Firma;Betrag\nMüller & Söhne;100 €\n", "cp1252", "cp1252"),
        ("Empresa;Año\nPeña y Compañía;2024\n", "iso-8859-1", "cp1252"),  # same characters
        ("Société;Ville\nSociété Générale;Évry\n", "cp1252", "cp1252"),
        ("Name\nJürgen\n", "cp1252", "cp1252"),
        ("Номер;Клиент;Сумма\nD-1;ООО «Ромашка»;1 234,50\n", "cp1251", "cp1251"),
        ("Клиент;Град\nЕТ Петров;София\n", "cp1251", "cp1251"),
        ("Имя\nЮрий\n", "cp1251", "cp1251"),
        ("编号,客户,金额\n1,北京科技有限公司,1000\n2,上海贸易公司,2000\n", "gbk", "gbk"),
        ("编号,客户\n1,CRM系统有限公司\n", "gbk", "gbk"),
    ],
)
def test_detection(text: str, encoding: str, expected: str) -> None:
    guess = guess_encoding(text.encode(encoding))
    assert guess.encoding == expected
    assert guess.garbled == 0


@pytest.mark.parametrize(
    ("word", "garbled"),
    [
        ("Müller", False),
        ("Mьller", True),  # German read as cp1251
        ("Sцhne", True),
        ("Ромашка", False),
        ("Ðîìàøêà", True),  # Russian read as cp1252
        ("été", False),
        ("CRM系统", False),
        ("M淇ler", True),  # German read as GBK
        ("Straße", False),
    ],
)
def test_improbable_words(word: str, garbled: bool) -> None:
    assert (garbled_words(word)[0] == 1) is garbled


western = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüßéèàçñ", min_size=4, max_size=12)
cyrillic = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя", min_size=4, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(western.filter(lambda w: not w.isascii()), min_size=1, max_size=20),
    encoding=st.sampled_from(["cp1252", "iso-8859-1", "iso-8859-15"]),
)
def test_western_text_is_never_read_as_cyrillic(words: list[str], encoding: str) -> None:
    """Names with a few accents in each, in any Western encoding, decode back exactly."""
    names = [w[0].upper() + w[1:] for w in words]
    data = ("Name;Stadt\n" + "".join(f"{n} GmbH;Köln\n" for n in names)).encode(encoding)
    guess = guess_encoding(data)
    assert guess.encoding in ("cp1252", "iso-8859-1", "iso-8859-15")
    assert data.decode(guess.encoding) == data.decode(encoding)


@settings(max_examples=60, deadline=None)
@given(words=st.lists(cyrillic, min_size=1, max_size=20))
def test_cyrillic_text_stays_cp1251(words: list[str]) -> None:
    data = ("Клиент;Город\n" + "".join(f"ООО {w};Москва\n" for w in words)).encode("cp1251")
    assert guess_encoding(data).encoding == "cp1251"


def test_wrong_encoding_warns_naming_file_and_encodings(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(PIPEDRIVE_DE.encode("cp1252"))
    assert read_raw(path).warnings == ()
    given = read_raw(path, encoding="cp1251")
    assert given.frame["Deal - Organization"].iloc[0] == "Mьller & Sцhne GmbH"
    (warning,) = given.warnings
    assert warning.startswith("deals.csv: ")
    assert "'Mьller'" in warning and "cp1251 (given)" in warning and "--encoding" in warning
    # a file mixing two encodings: the detected reading warns and names what it tried
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        PIPEDRIVE_DE.encode("cp1252") + "4;Сделка;ООО Ромашка;1;RUB;won;;\n".encode("cp1251")
    )
    (warning,) = read_raw(mixed).warnings
    assert "mixed.csv" in warning and "tried utf-8, cp1251" in warning


def test_preset_import_keeps_german_names(workspace: Store, tmp_path: Path) -> None:
    workspace.set_settings(base_currency="EUR")
    path = tmp_path / "deals-de.csv"
    path.write_bytes(PIPEDRIVE_DE.encode("cp1252"))
    report = import_files(workspace, [path], source="pipedrive")
    assert report.files[0].encoding == "cp1252"
    assert report.files[0].warnings == []
    owners = sorted(workspace.table("deals").to_pandas()["owner_rep_id"])
    assert owners == ["Jürgen Weiß", "Jürgen Weiß", "Zoë Lefèvre"]


def test_explicit_encoding_overrides_the_mapping(workspace: Store, tmp_path: Path) -> None:
    """A mapping that says cp1251 (as Russian presets do) is overridden by --encoding."""
    workspace.set_settings(base_currency="EUR")
    mapping = parse_mapping(
        "source_system: t\ntables:\n  - entity: deals\n    columns:\n"
        "      deal_id: Deal - ID\n      account_id: Deal - Organization\n"
        "      amount: Deal - Value\n      created_at: Deal - Deal created\n"
        "    csv: {encoding: cp1251}\n",
        "map.yaml",
    )
    path = tmp_path / "deals.csv"
    path.write_bytes(PIPEDRIVE_DE.encode("cp1252"))
    garbled = import_files(workspace, [path], mapping=mapping)
    assert garbled.files[0].warnings  # the mapping's cp1251 garbles: said, not silent
    fixed = with_encoding(mapping, "CP1252")
    assert {t.csv.encoding for t in fixed.tables} == {"cp1252"}
    report = import_files(workspace, [path], mapping=fixed)
    assert report.files[0].encoding == "cp1252" and report.files[0].warnings == []
    accounts = set(workspace.table("deals").to_pandas()["account_id"])
    assert "Müller & Söhne GmbH" in accounts
    preset = with_encoding(resolve_mapping("pipedrive", None), "iso-8859-15")
    assert {t.csv.encoding for t in preset.tables} == {"iso8859-15"}
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        with_encoding(mapping, "klingon")
    with pytest.raises(InputFileError, match="unknown encoding"):
        read_raw(path, encoding="klingon")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_cli_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(PIPEDRIVE_DE.encode("cp1252"))
    ws = tmp_path / "ws"
    wrong = run("import", ws, path, "--source", "pipedrive", "--encoding", "cp1251",
                "--base-currency", "EUR")  # fmt: skip
    assert wrong.returncode == 0, wrong.stderr
    assert "Warning: deals.csv:" in wrong.stdout and "garbled" in wrong.stdout
    right = run("import", ws, path, "--source", "pipedrive", "--encoding", "cp1252")
    assert right.returncode == 0, right.stderr
    assert "garbled" not in right.stdout and "cp1252" in right.stdout
    assert "'Müller & Söhne GmbH'" in right.stdout  # in the unlinked-names warning
    bad = run("import", ws, path, "--source", "pipedrive", "--encoding", "klingon")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "--encoding: unknown encoding" in bad.stderr
