"""Lake workspaces on an object store: `s3://bucket/prefix`, Parquet and Delta.

An S3 server (moto's, a separate process on 127.0.0.1) stands in for AWS S3 or an
S3-compatible store such as MinIO; crmroi reaches it through pyarrow.fs and delta-rs
with the standard variables (`AWS_ENDPOINT_URL`, keys, region). The end-to-end test
imports the Maven CRM export there and checks that `kpis`, `attribute` and `report`
give the numbers of a DuckDB workspace holding the same export. Skipped, saying why,
when moto is not installed or its server does not start.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from crmroi.errors import WorkspaceError
from crmroi.store import Store
from tests.test_lake import (
    EXAMPLES,
    GO_LIVE,
    assert_same_numbers,
    cli,
    import_maven,
    xlsx_values,
)

pytest.importorskip("moto", reason="moto is not installed (the dev extra brings it)")
pytest.importorskip("flask_cors", reason="moto's server needs flask-cors (the dev extra)")
pytest.importorskip("boto3", reason="boto3 is not installed (moto brings it)")

BUCKET = "crm-lake"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An S3 server on 127.0.0.1 with one bucket; the AWS variables point at it."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"the S3 test server did not start: {log.read_text()[-300:]}")
                time.sleep(0.2)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ENDPOINT_URL", endpoint)
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            env.setenv("AWS_REGION", "us-east-1")
            env.delenv("AWS_PROFILE", raising=False)
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            yield client
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The reference: the same export in a DuckDB workspace."""
    workspace = str(tmp_path_factory.mktemp("s3-reference") / "duck")
    import_maven(workspace)
    with Store.open(workspace) as store:
        store.set_settings(go_live=GO_LIVE)
    return workspace


def _keys(client: Any, prefix: str) -> list[str]:
    found = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return [str(item["Key"]).removeprefix(prefix) for item in found]


@pytest.mark.slow  # an import over HTTP, then kpis, attribute and report on each workspace
@pytest.mark.parametrize("table_format", ["parquet", "delta"])
def test_import_kpis_attribute_report_on_s3_give_the_duckdb_numbers(
    s3: Any, duck: str, table_format: str, tmp_path: Path
) -> None:
    prefix = f"e2e-{table_format}"
    lake = f"s3://{BUCKET}/{prefix}?format={table_format}"
    import_maven(lake)
    with Store.open(lake) as store:
        store.set_settings(go_live=GO_LIVE)
    keys = _keys(s3, prefix + "/")
    assert "crmroi-lake.json" in keys  # the workspace is in the bucket, not on disk
    delta_log = [k for k in keys if k.startswith("tables/deals/_delta_log/")]
    assert bool(delta_log) == (table_format == "delta")
    with Store.open(duck) as a, Store.open(lake) as b:
        assert a.counts() == b.counts()
        assert b.counts()["deals"] == 8800
        order = ["source_system", "source_id"]
        left, right = a.to_arrow("deals", order_by=order), b.to_arrow("deals", order_by=order)
        assert right.drop(["batch_id"]).equals(left.drop(["batch_id"]))
    window = ["--go-live", GO_LIVE, "--baseline-months", "3", "--after-months", "3"]
    for command in (
        ["kpis", *window, "--format", "json", "--bootstrap", "10"],
        ["attribute", "--go-live", GO_LIVE, "--format", "json"],
    ):
        want = json.loads(cli(command[0], duck, *command[1:]))
        got = json.loads(cli(command[0], lake, *command[1:]))
        assert want, command
        assert_same_numbers(got, want, command[0])
    sheets = []
    for name, workspace in (("duck", duck), ("s3", lake)):
        out = tmp_path / f"{name}.xlsx"
        cli_args = ("--simulate", "100", "--bootstrap", "10")
        cli("report", EXAMPLES / "case.yaml", "--workspace", workspace, "--out", out, *cli_args)
        sheets.append(xlsx_values(out))
    assert_same_numbers(sheets[1], sheets[0], "report")


def _a_deal(store: Store, source_id: str) -> pa.Table:
    row = store.to_arrow("deals").slice(0, 1)
    index = row.schema.get_field_index("source_id")
    return row.set_column(index, "source_id", pa.array([source_id]))


@pytest.mark.parametrize("table_format", ["parquet", "delta"])
def test_time_travel_and_a_concurrent_writer_on_s3(s3: Any, table_format: str) -> None:
    lake = f"s3://{BUCKET}/concurrent-{table_format}?format={table_format}"
    with Store.open(lake, create=True) as store:
        store.set_settings(base_currency="EUR")
        created = json.loads(s3.get_object(Bucket=BUCKET, Key=_manifest(lake))["Body"].read())
    with Store.open(lake) as first, Store.open(lake) as second:
        assert first.base_currency == "EUR"
        with pytest.raises(WorkspaceError, match="another writer committed"):  # noqa: SIM117
            with first.transaction() as tx:
                tx.write_settings({"base_currency": "GBP"})
                second.set_settings(base_currency="JPY")  # commits while first runs
        assert second.base_currency == "JPY"
        assert first.base_currency == "JPY"  # the refused write left nothing behind
        with first.transaction() as tx:  # the next write starts from the newest version
            tx.write_settings({"base_currency": "CHF"})
    with Store.open(lake) as store:
        assert store.base_currency == "CHF"
    with Store.open(f"{lake}&version={created['version']}") as old:
        assert old.base_currency == "EUR"
        with pytest.raises(WorkspaceError, match="read-only"):
            old.set_settings(base_currency="USD")


def _manifest(lake: str) -> str:
    return lake.removeprefix(f"s3://{BUCKET}/").split("?")[0] + "/crmroi-lake.json"


def test_a_missing_s3_lake_is_a_clear_error(s3: Any) -> None:
    with pytest.raises(WorkspaceError, match="not a crmroi lake workspace"):
        Store.open(f"s3://{BUCKET}/nothing-here")
