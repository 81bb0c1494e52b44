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
// A chart's accessible name (Vega's aria-label): its description, else its title, else
// "Chart" in the page's language (Vega's own default is the English "Vega visualization").
function described(spec, fallback) {
  if (!spec.description) {
    const title = spec.title;
    const text = typeof title === "string" || Array.isArray(title) ? title : title && title.text;
    spec.description = (Array.isArray(text) ? text.join(" ") : text) || fallback;
  }
  return spec;
}
function renderCharts(root) {
  if (!window.vegaEmbed) return;
  const locale = chartLocale();
  for (const node of root.querySelectorAll('script[type="application/json"][data-chart]')) {
    const target = document.getElementById(node.dataset.chart);
    if (!target || target.dataset.rendered === node.textContent.length.toString()) continue;
    target.dataset.rendered = node.textContent.length.toString();
    const label = document.body.dataset.chartLabel || "Chart";
    window.vegaEmbed(target, described(JSON.parse(node.textContent), label), {
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
