// Renders every Vega-Lite spec embedded as <script type="application/json" data-chart="ID">
// into the element with that id; again after htmx swaps new content in. Numbers and dates
// in the page's language (d3 locales in <script id="chart-locale">: Persian digits in fa).
function chartLocale() {
  const node = document.getElementById("chart-locale");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch (error) {
    return {};
  }
}
function renderCharts(root) {
  if (!window.vegaEmbed) return;
  const locale = chartLocale();
  for (const node of root.querySelectorAll('script[type="application/json"][data-chart]')) {
    const target = document.getElementById(node.dataset.chart);
    if (!target || target.dataset.rendered === node.textContent.length.toString()) continue;
    target.dataset.rendered = node.textContent.length.toString();
    window.vegaEmbed(target, JSON.parse(node.textContent), {
      actions: { export: true, source: false, compiled: false, editor: false },
      i18n: {  // the export menu in the page's language (base.html's data-chart-*)
        SVG_ACTION: document.body.dataset.chartSvg || "Save as SVG",
        PNG_ACTION: document.body.dataset.chartPng || "Save as PNG",
        CLICK_TO_VIEW_ACTIONS: document.body.dataset.chartMenu || "Click to view actions",
      },
      renderer: "svg",
      formatLocale: locale.number,
      timeFormatLocale: locale.time,
    }).then(() => target.classList.add("chart-ready"));
  }
}
renderCharts(document);
document.body.addEventListener("htmx:afterSettle", (event) => renderCharts(event.target));
