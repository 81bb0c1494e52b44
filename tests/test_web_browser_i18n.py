"""The web app in Russian, Bulgarian, Persian and Chinese in a real browser (Debian's
Chromium, Playwright).

The user picks the language in the header's switcher; the choice is kept on the account.
Each page then has the language's `lang` and `dir`, none of the app's English labels,
and in Persian a right-to-left layout, Persian digits and Solar Hijri dates.
Screenshots of each language's dashboard are kept in `test-output/web/`.

For each of ru, bg, fa and zh the case editor, the import wizard with a refused row and a
KPI drill-down (its charts' accessible names too), the import history, the account and
token page and the error pages show no English word beyond names, codes and numbers
(`tests.i18n_words`;
names from the data are marked `translate="no"` or listed by `data_words`); their
screenshots are kept under the test's pytest tmp dir (`screenshots/`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from crmroi.calendars import SOLAR_HIJRI_MONTHS
from tests.conftest import copy_workspace
from tests.i18n_words import WORD, english_words
from tests.test_web_browser import OPPORTUNITIES, SHOTS, LiveServer, new_page
from tests.web_support import make_app

DEMO_CASE = Path(__file__).resolve().parents[1] / "src/crmroi/reports/demo_case.yaml"

pytestmark = pytest.mark.slow

ENGLISH_LABELS = (
    "Executive summary",
    "What to act on",
    "Lead sources",
    "Improve the return",
    "Log out",
    "Import history",
    "Business cases",
)


@pytest.mark.parametrize("code", ["ru", "fa"])
def test_pages_in_the_chosen_language(
    browser: Browser, small_demo_folder: Path, tmp_path: Path, code: str
) -> None:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    app = make_app(str(folder), simulation_runs=100, bootstrap=10)
    with LiveServer(app) as server:
        page, errors = new_page(browser, server, "viewer")
        page.select_option("select[name=language]", code)  # htmx saves it and reloads
        page.wait_for_function(f"document.documentElement.lang === '{code}'", timeout=60_000)
        page.wait_for_selector("#summary")
        direction = "rtl" if code == "fa" else "ltr"
        for path in ("/dashboard", "/imports", "/cases"):
            page.goto(server.url(path))
            html = page.locator("html")
            assert html.get_attribute("lang") == code and html.get_attribute("dir") == direction
            text = page.inner_text("body")
            assert [e for e in ENGLISH_LABELS if e in text] == [], path
        page.goto(server.url("/dashboard"))
        page.wait_for_selector("#chart-cashflow svg", timeout=120_000)
        page.screenshot(path=str(SHOTS / f"dashboard-{code}.png"), full_page=True)
        if code == "fa":
            brand = page.locator("header.top .brand").bounding_box()
            logout = page.locator("header.top .logout").bounding_box()
            assert brand and logout and brand["x"] > logout["x"]  # mirrored: brand on the right
            text = page.inner_text("main")
            assert any(month in text for month in SOLAR_HIJRI_MONTHS)
            assert "۱" in text or "۲" in text
        assert errors == []


# -- no English left: case editor, import wizard (with refused rows), KPI drill-down --------
VISIBLE_TEXT = """root => {
  const out = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template')) continue;
    const marked = parent.closest('[translate]');  // the nearest translate="yes" or "no"
    if (marked && marked.getAttribute('translate') === 'no') continue;
    out.push(node.textContent);
  }
  return out.join(' ');
}"""
"""The text a reader sees in `root` (SVG chart text and select options included), less the
elements marked `translate="no"` (names and codes from the data) unless an element
nearer says `translate="yes"`, as HTML's attribute is inherited."""


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def data_words(folder: Path) -> set[str]:
    """Names and codes a page may show as they are: the workspace's teams, regions and
    segments, the demo case's own texts (its name, cost and benefit names, risks), the
    export's values, case.yaml's keys and values, the data contract's tables, presets and
    KPI codes."""
    import yaml

    from crmroi.ingest.presets import __file__ as presets_init
    from crmroi.kpi.definitions import KPI_DEFINITIONS
    from crmroi.store import Store
    from crmroi.store.schema import TABLES
    from crmroi.web.case_words import OPTIONS
    from tests.test_case_forms_i18n import editor_words
    from tests.test_web_browser import OPPORTUNITIES

    case = yaml.safe_load(DEMO_CASE.read_text(encoding="utf-8"))
    texts = [*_strings(case), OPPORTUNITIES]
    with Store.open(folder) as store:
        for table, columns in (("reps", ("team", "region")), ("accounts", ("segment", "region"))):
            frame = store.table(table).execute()
            texts += [str(v) for c in columns for v in frame[c].dropna().unique()]
    words = {w for t in texts for w in WORD.findall(t)}
    words |= set(OPTIONS) | set(TABLES) | set(KPI_DEFINITIONS) | {"default"}
    words |= {p.stem for p in Path(presets_init).parent.glob("*.yaml")}
    fields = {w.replace(" ", "_").lower() for w in editor_words()["labels"]}
    return words | fields | {"change", "kpi", "attributed"}


def english_left(page: Page, allowed: set[str], root: str = "main") -> list[str]:
    """English words in `root` beyond names, codes and numbers (see `tests.i18n_words`)."""
    text = page.evaluate(VISIBLE_TEXT, root)
    return sorted({w for w in english_words(text) if w not in allowed})


@pytest.mark.parametrize("code", ["ru", "bg", "fa", "zh"])
def test_case_editor_import_wizard_and_drilldown_have_no_english(
    browser: Browser, small_demo_folder: Path, tmp_path: Path, code: str
) -> None:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    export = tmp_path / "Opportunity.csv"
    export.write_bytes(OPPORTUNITIES.encode("cp1251"))
    shots = tmp_path / "screenshots"  # kept by pytest with the test's tmp dir
    shots.mkdir()
    allowed = data_words(folder)
    app = make_app(str(folder), simulation_runs=100, bootstrap=10)
    with LiveServer(app) as server:
        page, errors = new_page(browser, server, "analyst")
        page.select_option("select[name=language]", code)
        page.wait_for_function(f"document.documentElement.lang === '{code}'", timeout=60_000)

        page.goto(server.url("/cases/default"))
        page.locator("#results").wait_for()
        page.locator("#editor select[name='costs.0.category']").wait_for()
        left = english_left(page, allowed)
        assert left == [], f"case editor: {left}"
        label = page.inner_text("label[for='f-horizon_months']")
        assert label.strip() and "Horizon" not in label
        page.screenshot(path=str(shots / f"case-editor-{code}.png"), full_page=True)

        page.goto(server.url("/imports"))
        page.set_input_files("input[name=files]", str(export))
        page.select_option("select[name=source]", "salesforce")
        page.click("form[action='/imports/upload'] button[type=submit]")
        page.wait_for_selector("#rejects")
        reason = page.locator("#rejects td[data-code='import_not_a_number']")
        assert reason.count() == 1 and "'сто'" in reason.inner_text()
        assert "cannot read" not in reason.inner_text()
        left = english_left(page, allowed)
        assert left == [], f"import wizard: {left}"
        page.screenshot(path=str(shots / f"import-wizard-{code}.png"), full_page=True)

        page.goto(server.url("/dashboard/kpi/win_rate"))
        page.wait_for_selector("#chart-series-win_rate svg", timeout=120_000)
        left = english_left(page, allowed)
        assert left == [], f"KPI drill-down: {left}"
        assert "deals won / deals closed" not in page.inner_text("main")
        labels = page.eval_on_selector_all(  # Vega names its container (the chart's div)
            "[role='graphics-document']", "els => els.map(e => e.getAttribute('aria-label'))"
        )
        assert labels and not any("Vega" in label for label in labels), labels
        page.screenshot(path=str(shots / f"kpi-drilldown-{code}.png"), full_page=True)

        # the import history (with a failed import), the account and token page, and the
        # error pages (an upload that is gone, a path that does not exist)
        history_words = allowed | {"seed", "scale", "Authorization", "Bearer", "generic"}  # codes
        for path, root in (
            ("/imports", "main"),
            ("/account", "main"),
            ("/imports/" + "0" * 32, "main"),
            ("/nowhere", "main"),
        ):
            page.goto(server.url(path))
            left = english_left(page, history_words | {"api"}, root)
            assert left == [], f"{path}: {left}"
        assert [e for e in errors if "status of 4" not in e] == []
    assert len(list(shots.glob("*.png"))) == 3
