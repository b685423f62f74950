// The supervisor dashboard: figures from /v1/reports, /v1/csat and /v1/experiments as charts.

import { all, api, ApiError, optional, query, session } from "./api.js";
import { $, h, setText } from "./dom.js";
import { channelName } from "./format.js";
import { CHANNEL_COLORS, PALETTE, RED, draw, intervalChart, percentAxis } from "./charts.js";
import { LiveEvents } from "./live.js";
import { verdict } from "./verdict.js";

const DAY = 86_400_000;
const note = (figure, text) => setText($(`#${figure} .chart-note`), text);
const minutes = (seconds) => (seconds === null || seconds === undefined ? null
  : Math.round(seconds / 6) / 10);

function period() {
  const days = Number($("#period").value);
  const to = new Date(Math.ceil(Date.now() / DAY) * DAY);
  return { from: new Date(to - days * DAY).toISOString(), to: to.toISOString(), days };
}

function dayKeys(from, days) {
  return Array.from({ length: days }, (_, i) => new Date(Date.parse(from) + i * DAY)
    .toISOString().slice(0, 10));
}

async function volume({ from, to, days }) {
  const rows = await all("/v1/reports/cases", { from, to }, 20_000);
  const keys = dayKeys(from, days);
  const byChannel = new Map();
  for (const row of rows) {
    const type = row.channel_type || "unknown";
    if (!byChannel.has(type)) byChannel.set(type, new Map());
    const day = String(row.opened_at).slice(0, 10);
    byChannel.get(type).set(day, (byChannel.get(type).get(day) || 0) + 1);
  }
  draw("chart-volume", { type: "bar", data: { labels: keys.map((k) => k.slice(5)), datasets: [...byChannel].map(
    ([type, counts], i) => ({ label: channelName(type), data: keys.map((k) => counts.get(k) || 0),
      backgroundColor: CHANNEL_COLORS[type] || PALETTE[i % PALETTE.length] })) },
  options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
    ticks: { precision: 0 } } } } });
  note("fig-volume", rows.length ? `${rows.length} case${rows.length === 1 ? "" : "s"}`
    : "No cases in this period");
}

async function summary(groupBy, range) {
  const page = await api(`/v1/reports/summary${query({ from: range.from, to: range.to,
    group_by: groupBy })}`);
  return page.items;
}

async function firstResponse(range) {
  const rows = (await summary("day", range)).sort((a, b) => a.key.localeCompare(b.key));
  draw("chart-frt", { type: "line", data: { labels: rows.map((r) => r.label || r.key), datasets: [
    { label: "median", data: rows.map((r) => minutes(r.first_response_seconds.median)),
      borderColor: PALETTE[0], backgroundColor: PALETTE[0], spanGaps: true },
    { label: "p90", data: rows.map((r) => minutes(r.first_response_seconds.p90)),
      borderColor: PALETTE[2], backgroundColor: PALETTE[2], borderDash: [6, 4], spanGaps: true },
  ] }, options: { scales: { y: { beginAtZero: true, ticks: { callback: (v) => `${v} min` } } } } });
  note("fig-frt", rows.length ? "" : "No answered cases in this period");
}

async function slaByTeam(range) {
  const rows = (await summary("team", range)).filter((r) => r.sla_met_rate !== null);
  draw("chart-sla", { type: "bar", data: { labels: rows.map((r) => r.label || r.key),
    datasets: [{ label: "SLA met", data: rows.map((r) => Math.round(r.sla_met_rate * 1000) / 10),
      backgroundColor: rows.map((r) => (r.sla_met_rate < 0.8 ? RED : PALETTE[1])) }] },
  options: { scales: { y: percentAxis() }, plugins: { legend: { display: false } } } });
  note("fig-sla", rows.length ? "Red: under 80 %" : "No decided cases with an SLA yet");
}

async function csat(range) {
  const rows = await summary("agent", range);
  const totals = [1, 2, 3, 4, 5].map((score) => rows.reduce(
    (sum, r) => sum + (r.csat?.distribution?.[String(score)] || 0), 0));
  const answered = totals.reduce((a, b) => a + b, 0);
  draw("chart-csat", { type: "bar", data: { labels: ["1", "2", "3", "4", "5"], datasets: [{
    label: "answers", data: totals,
    backgroundColor: ["#dc2626", "#f97316", "#eab308", "#84cc16", "#16a34a"] }] },
  options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    plugins: { legend: { display: false } } } });
  const mean = answered ? totals.reduce((s, n, i) => s + n * (i + 1), 0) / answered : null;
  note("fig-csat", answered ? `${answered} answers · mean ${mean.toFixed(2)} · satisfied (4–5) ${
    Math.round(((totals[3] + totals[4]) / answered) * 100)} %` : "No answers in this period");
  const agents = rows.filter((r) => r.csat?.responses);
  draw("chart-csat-agent", { type: "bar", data: { labels: agents.map((r) => r.label || r.key),
    datasets: [{ label: "mean", data: agents.map((r) => r.csat.mean), backgroundColor: PALETTE[3] }] },
  options: { indexAxis: "y", scales: { x: { min: 1, max: 5 } },
    plugins: { legend: { display: false } } } });
  note("fig-csat-agent", agents.length ? agents.map((r) => `${r.label || r.key}: ${
    r.csat.responses}`).join(" · ") + " answers" : "No answers in this period");
}

async function tags(range) {
  const rows = await all("/v1/reports/tags", { from: range.from, to: range.to, interval: "week" });
  const periods = [...new Set(rows.map((r) => r.period))].sort();
  const totals = new Map();
  for (const r of rows) totals.set(r.tag, (totals.get(r.tag) || 0) + r.cases);
  const top = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([tag]) => tag);
  const spikes = [];
  const datasets = top.map((tag, i) => {
    const cells = periods.map((p) => rows.find((r) => r.tag === tag && r.period === p));
    for (const c of cells) if (c?.spike) spikes.push(`${tag} in the week of ${c.period}`);
    return { label: tag, data: cells.map((c) => c?.cases || 0), borderColor: PALETTE[i],
      backgroundColor: PALETTE[i],
      pointRadius: cells.map((c) => (c?.spike ? 8 : 3)),
      pointBackgroundColor: cells.map((c) => (c?.spike ? RED : PALETTE[i])) };
  });
  draw("chart-tags", { type: "line", data: { labels: periods, datasets },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  note("fig-tags", spikes.length ? `Spikes: ${spikes.join("; ")}`
    : rows.length ? "No spikes" : "No tagged cases in this period");
}

async function experiments() {
  const list = await optional("/v1/experiments?limit=200", { items: [] });
  const picker = $("#experiment-pick");
  const chosen = picker.value;
  picker.replaceChildren(...list.items.map((e) => h("option", { value: e.id,
    text: `${e.name} (${e.status})` })));
  $("#fig-experiment").hidden = list.items.length === 0;
  if (!list.items.length) return;
  if (chosen && list.items.some((e) => String(e.id) === chosen)) picker.value = chosen;
  const report = await api(`/v1/experiments/${picker.value}/report`);
  setText($("#experiment-status"), `${report.status} · ${report.buckets.map(
    (b) => `${b.bucket}: ${b.cases} cases`).join(" · ")}`);
  const buckets = (pick) => report.buckets.map((b) => ({ name: b.bucket, ...pick(b) }));
  intervalChart("chart-exp-frt", buckets((b) => ({ value: b.first_response_seconds.median,
    ci: b.first_response_seconds.median_ci95 })), { scale: 1 / 60, unit: " min" });
  intervalChart("chart-exp-sla", buckets((b) => ({ value: b.sla_met.rate, ci: b.sla_met.ci95 })),
    { scale: 100, unit: " %", max: 100 });
  intervalChart("chart-exp-csat", buckets((b) => ({ value: b.csat.mean, ci: b.csat.mean_ci95 })),
    { max: 5 });
  const verdicts = $("#experiment-verdicts");
  verdicts.replaceChildren();
  for (const c of report.comparisons) {
    for (const [metric, name] of [["first_response_seconds", "first response"],
      ["resolution_seconds", "resolution"], ["sla_met_rate", "SLA met rate"], ["csat", "CSAT"]]) {
      const v = verdict(c[metric]);
      verdicts.append(h("li", { className: v.significant ? "significant" : "",
        text: `${c.bucket} vs ${c.against}, ${name}: ${v.text}` }));
    }
  }
}

async function refresh() {
  lastRefresh = Date.now();
  if (!session.key) { $("#signed-out").hidden = false; $("#charts").hidden = true; return; }
  const range = period();
  const errors = [];
  const guard = (name, work) => work.catch((error) => {
    if (error instanceof ApiError && error.status === 401) session.key = null;
    errors.push(`${name}: ${error instanceof ApiError && error.status === 404
      ? "reports are not available on this server" : error.message}`);
  });
  await Promise.all([guard("cases per day", volume(range)), guard("first response",
    firstResponse(range)), guard("SLA", slaByTeam(range)), guard("CSAT", csat(range)),
  guard("tags", tags(range)), guard("experiments", experiments())]);
  const box = $("#dash-error");
  box.hidden = errors.length === 0;
  setText(box, errors.join(" · "));
  setText($("#updated"), `updated ${new Date().toLocaleTimeString()}`);
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

// Live events ask for a redraw; on a busy desk they come by the hundred, so at most one
// redraw per MIN_GAP (each one re-reads the period's reports).
const MIN_GAP = 10_000;
let timer = null;
let lastRefresh = 0;
function soon() {
  if (timer) return;
  const wait = Math.max(500, lastRefresh + MIN_GAP - Date.now());
  timer = setTimeout(() => { timer = null; refresh(); }, wait);
}

$("#period").addEventListener("change", refresh);
$("#experiment-pick").addEventListener("change", () => experiments().catch(() => {}));
refresh();
if (session.key) {
  new LiveEvents((type) => {
    if (type.startsWith("case.") || type === "csat.received" || type.startsWith("sla.")) soon();
  }, (state) => setText($("#live"), state === "live" ? "● live" : "○ reconnecting…")).start();
  setInterval(refresh, 60_000);
}
