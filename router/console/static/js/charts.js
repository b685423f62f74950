// Chart.js (vendored, static/vendor/) set up once: no animation, the palette, and small
// builders for the chart kinds the dashboard draws. Labels are drawn on a canvas, as text.

import "../vendor/chart.umd.min.js";

const Chart = globalThis.Chart;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

export const PALETTE = ["#2454d6", "#16a34a", "#f59e0b", "#9333ea", "#0891b2", "#e11d48",
  "#64748b", "#84cc16"];
export const CHANNEL_COLORS = { whatsapp: "#25d366", telegram: "#229ed9", email: "#f59e0b",
  webchat: "#8b5cf6", api: "#0f766e" };
export const RED = "#dc2626";

const charts = new Map();

// One chart per canvas, replaced on each refresh.
export function draw(canvasId, config) {
  charts.get(canvasId)?.destroy();
  const chart = new Chart(document.getElementById(canvasId), config);
  charts.set(canvasId, chart);
  return chart;
}

export function percentAxis() {
  return { min: 0, max: 100, ticks: { callback: (v) => `${v} %` } };
}

// Buckets side by side: a floating bar from the interval's low to high, a mark at the estimate
// (a lower `order` is drawn later, so the mark sits on top of its bar).
export function intervalChart(canvasId, buckets, { scale = 1, unit = "", max } = {}) {
  const labels = buckets.map((b) => b.name);
  const ranges = buckets.map((b) => (b.ci ? [b.ci[0] * scale, b.ci[1] * scale] : null));
  const points = buckets.map((b) => (b.value === null || b.value === undefined ? null
    : b.value * scale));
  return draw(canvasId, {
    data: { labels, datasets: [
      { type: "bar", label: "95 % interval", data: ranges, backgroundColor: "#c7d2fe",
        borderColor: "#6366f1", borderWidth: 1, barPercentage: 0.35, order: 2 },
      { type: "line", label: "estimate", data: points, backgroundColor: "#1e1b4b",
        borderColor: "#1e1b4b", showLine: false, pointRadius: 6, pointStyle: "rectRot", order: 1 },
    ] },
    options: { scales: { y: { beginAtZero: true, max,
      ticks: { callback: (v) => `${v}${unit}` } } },
    plugins: { legend: { position: "bottom" } } },
  });
}
