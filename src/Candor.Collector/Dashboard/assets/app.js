// The Candor dashboard: signs in with the admin token (kept for this browser tab only), then
// asks the analytics API for each figure and draws it. No build step, no CDN.
"use strict";

const api = "/v1/admin/analytics";
const tokenKey = "candor.adminToken";
const charts = new Map();
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(tokenKey); }

async function get(path, params) {
  const url = new URL(api + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const response = await fetch(url, { headers: { Authorization: "Bearer " + token() } });
  if (response.status === 401) { const e = new Error("The admin token was refused."); e.unauthorized = true; throw e; }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).message || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

function isoDay(date) { return date.toISOString().slice(0, 10); }
function number(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
function percent(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%"; }

// Every day of the range, so days without activity show as zero rather than a straight line.
function daily(points, from, to) {
  const byDay = new Map(points.map((p) => [p.period.slice(0, 10), p.installs]));
  const days = [];
  for (let d = new Date(from + "T00:00:00Z"); d <= new Date(to + "T00:00:00Z"); d = new Date(d.getTime() + 86400000)) {
    days.push(isoDay(d));
  }
  return { labels: days, data: days.map((d) => byDay.get(d) || 0) };
}

function filters() {
  const form = new FormData($("filters"));
  return Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]));
}

function draw(id, type, labels, datasets, options) {
  const existing = charts.get(id);
  if (existing) { existing.destroy(); }
  const chart = new Chart($(id), {
    type,
    data: { labels, datasets },
    options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: datasets.length > 1 || type === "doughnut" } } }, options || {}),
  });
  charts.set(id, chart);
}

function breakdownChart(id, rows, type) {
  draw(id, type || "bar", rows.map((r) => r.label), [{ label: "installs", data: rows.map((r) => r.installs) }],
    type === "doughnut" ? {} : { indexAxis: "y" });
}

function rows(tbodyId, items, cells) {
  const body = $(tbodyId);
  body.replaceChildren(...items.map((item) => {
    const tr = document.createElement("tr");
    for (const [text, numeric] of cells(item)) {
      const td = document.createElement("td");
      td.textContent = text;
      if (numeric) td.className = "num";
      tr.append(td);
    }
    return tr;
  }));
}

async function load() {
  const q = filters();
  $("load-error").hidden = true;
  try {
    const [summary, active, fresh, retention, versions, initial, os, runtime, arch, ci, country, errors, commands, operations, events, live, quarantine, services] =
      await Promise.all([
        get("/summary", q), get("/active", q), get("/new-installs", q), get("/retention", q),
        get("/versions", { ...q, interval: "week" }),
        get("/breakdown/initial-version", q), get("/breakdown/os-family", q), get("/breakdown/runtime", q),
        get("/breakdown/architecture", q), get("/breakdown/ci-name", q), get("/breakdown/country", q),
        get("/breakdown/error-code", q), get("/commands", q), get("/operations", q), get("/breakdown/event-name", q),
        get("/live", { product: q.product }),
        // Rejected events were never attributed to a version, OS or command: only product and range apply.
        get("/quarantine", { product: q.product, from: q.from, to: q.to }),
        get("/services", q),
      ]);

    $("tile-installs").textContent = number(summary.installs);
    $("tile-new").textContent = number(summary.new_installs);
    $("tile-events").textContent = number(summary.events);
    $("tile-runs").textContent = number(summary.command_runs);
    $("tile-failure").textContent = percent(summary.failure_rate);
    $("tile-retention").textContent = percent(retention.share7) + " / " + percent(retention.share30);
    $("tile-live").textContent = number(live.instances);
    $("tile-rejected").textContent = number(quarantine.total);

    const activeDays = daily(active, q.from, q.to);
    draw("chart-active", "line", activeDays.labels, [{ label: "active installs", data: activeDays.data, pointRadius: 0 }]);
    const newDays = daily(fresh, q.from, q.to);
    draw("chart-new", "bar", newDays.labels, [{ label: "new installs", data: newDays.data }]);

    const periods = [...new Set(versions.map((p) => p.period.slice(0, 10)))];
    const labels = [...new Set(versions.map((p) => p.label))];
    draw("chart-versions", "bar", periods, labels.map((label) => ({
      label,
      data: periods.map((period) => (versions.find((p) => p.label === label && p.period.startsWith(period)) || { installs: 0 }).installs),
    })), { scales: { x: { stacked: true }, y: { stacked: true } } });

    breakdownChart("chart-initial", initial);
    breakdownChart("chart-os", os, "doughnut");
    breakdownChart("chart-runtime", runtime);
    breakdownChart("chart-arch", arch, "doughnut");
    breakdownChart("chart-ci", ci, "doughnut");
    breakdownChart("chart-country", country);
    breakdownChart("chart-errors", errors);

    rows("commands", commands, (c) => [[c.command], [number(c.runs), true], [number(c.installs), true], [percent(c.failure_rate), true], [number(c.p50_ms), true], [number(c.p95_ms), true]]);
    rows("operations", operations, (o) => [[o.command], [number(o.runs), true], [percent(o.failure_rate), true], [number(o.p50_ms), true]]);
    draw("chart-quarantine", "bar", quarantine.by_reason.map((r) => r.label),
      [{ label: "rejected events", data: quarantine.by_reason.map((r) => r.events) }], { indexAxis: "y" });
    rows("quarantine-schemas", quarantine.by_schema, (r) => [[r.label], [number(r.events), true]]);
    rows("events", events, (e) => [[e.label], [number(e.events), true], [number(e.installs), true]]);
    showServices(services);
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    if (error.unauthorized) { signOut("The admin token was refused."); return; }
    $("load-error").textContent = "Could not load the dashboard: " + error.message;
    $("load-error").hidden = false;
  }
}

// The Services section: only for a product that sent service events (startup, shutdown, request usage).
function showServices(services) {
  $("services").hidden = services.events === 0;
  if (services.events === 0) return;
  const i = services.instances;
  $("services-live").textContent = number(i.live);
  $("services-started").textContent = number(i.started);
  $("services-startup").textContent = number(i.startup_p50_ms) + " / " + number(i.startup_p95_ms) + " ms";
  $("services-uptime").textContent = duration(i.uptime_p50_seconds);
  rows("routes", services.routes, (r) => [[r.route], [r.method || ""], [number(r.requests), true], [percent(r.error_rate), true], [r.p50_ms || "–", true], [r.p95_ms || "–", true]]);
  rows("http-errors", services.http_errors, (r) => [[r.error_code], [r.status ? String(r.status) : ""], [number(r.requests), true]]);
  const groups = (r) => [[r.label], [number(r.count), true], [number(r.installs), true]];
  rows("clients", services.clients, groups);
  rows("languages", services.languages, groups);
  rows("clouds", services.clouds, groups);
  rows("service-errors", services.errors.concat(services.shutdown_reasons.map((r) => ({ ...r, label: "shutdown: " + r.label }))),
    (r) => [[r.label], [number(r.count), true]]);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

async function showDashboard() {
  const products = await get("/products");
  const select = $("product");
  select.replaceChildren(...products.map((p) => new Option(p, p)));
  if (products.length === 0) select.append(new Option("(no events yet)", ""));
  $("signin").hidden = true;
  $("dashboard").hidden = false;
  await load();
}

function signOut(message) {
  sessionStorage.removeItem(tokenKey);
  $("dashboard").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("signin-error").hidden = !message;
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, $("token").value.trim());
  try { await showDashboard(); } catch (error) { signOut(error.unauthorized ? "The admin token was refused." : error.message); }
});
$("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("signout").addEventListener("click", () => signOut());

const today = new Date();
$("to").value = isoDay(today);
$("from").value = isoDay(new Date(today.getTime() - 29 * 86400000));
if (token()) { showDashboard().catch((error) => signOut(error.unauthorized ? "The admin token was refused." : error.message)); } else { signOut(); }
