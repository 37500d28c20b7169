// The Candor dashboard: signs in with the admin or the viewer token (kept for this browser tab
// only), then asks the analytics API for each figure and draws it. No build step, no CDN.
// Under the viewer token every answer is k-anonymous: a figure computed from fewer than k installs
// is left out and named in the object's "withheld" list (with "k"); it shows as "fewer than k
// installs". What only the admin reads (the installs list, quarantine) is not shown to the viewer.
"use strict";

const api = "/v1/admin/analytics";
const tokenKey = "candor.adminToken";
const charts = new Map();
let reader = { role: "admin", k: 5 };
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(tokenKey); }

async function get(path, params) {
  const url = new URL(api + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const response = await fetch(url, { headers: { Authorization: "Bearer " + token() } });
  if (response.status === 401) { const e = new Error("The token was refused."); e.unauthorized = true; throw e; }
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

// Whether the viewer's answer left this figure out (fewer than k installs behind it).
function withheld(item, field) { return Array.isArray(item.withheld) && item.withheld.includes(field); }
function fewer(item) { return "fewer than " + (item.k || reader.k) + " installs"; }
// A figure of an answer: formatted, or "fewer than k installs" when withheld.
function fig(item, field, format) { return withheld(item, field) ? fewer(item) : (format || number)(item[field]); }
function isViewer() { return reader.role === "viewer"; }

// Every day of the range, so days without activity show as zero rather than a straight line.
function daily(points, from, to) {
  // A withheld point is a gap (null), not zero.
  const byDay = new Map(points.map((p) => [p.period.slice(0, 10), withheld(p, "installs") ? null : p.installs]));
  const days = [];
  for (let d = new Date(from + "T00:00:00Z"); d <= new Date(to + "T00:00:00Z"); d = new Date(d.getTime() + 86400000)) {
    days.push(isoDay(d));
  }
  return { labels: days, data: days.map((d) => (byDay.has(d) ? byDay.get(d) : 0)) };
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
  draw(id, type || "bar", rows.map((r) => (withheld(r, "installs") ? r.label + " (" + fewer(r) + ")" : r.label)),
    [{ label: "installs", data: rows.map((r) => (withheld(r, "installs") ? null : r.installs)) }],
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
    const [summary, active, fresh, retention, versions, initial, os, runtime, arch, ci, country, errors, commands, operations, events, live, quarantine, services, installs] =
      await Promise.all([
        get("/summary", q), get("/active", q), get("/new-installs", q), get("/retention", q),
        get("/versions", { ...q, interval: "week" }),
        get("/breakdown/initial-version", q), get("/breakdown/os-family", q), get("/breakdown/runtime", q),
        get("/breakdown/architecture", q), get("/breakdown/ci-name", q), get("/breakdown/country", q),
        get("/breakdown/error-code", q), get("/commands", q), get("/operations", q), get("/breakdown/event-name", q),
        get("/live", { product: q.product }),
        // Rejected events were never attributed to a version, OS or command: only product and range apply.
        // Quarantine and the installs list are the admin's only.
        isViewer() ? null : get("/quarantine", { product: q.product, from: q.from, to: q.to }),
        get("/services", q),
        isViewer() ? null : get("/installs", { ...q, limit: 20 }),
      ]);

    $("tile-installs").textContent = fig(summary, "installs");
    $("tile-new").textContent = fig(summary, "new_installs");
    $("tile-events").textContent = fig(summary, "events");
    $("tile-runs").textContent = fig(summary, "command_runs");
    $("tile-failure").textContent = fig(summary, "failure_rate", percent);
    $("tile-retention").textContent = fig(retention, "share7", percent) + " / " + fig(retention, "share30", percent);
    $("tile-live").textContent = fig(live, "instances");

    const activeDays = daily(active, q.from, q.to);
    draw("chart-active", "line", activeDays.labels, [{ label: "active installs", data: activeDays.data, pointRadius: 0 }]);
    const newDays = daily(fresh, q.from, q.to);
    draw("chart-new", "bar", newDays.labels, [{ label: "new installs", data: newDays.data }]);

    const periods = [...new Set(versions.map((p) => p.period.slice(0, 10)))];
    const labels = [...new Set(versions.map((p) => p.label))];
    draw("chart-versions", "bar", periods, labels.map((label) => ({
      label,
      data: periods.map((period) => {
        const point = versions.find((p) => p.label === label && p.period.startsWith(period)) || { installs: 0 };
        return withheld(point, "installs") ? null : point.installs;
      }),
    })), { scales: { x: { stacked: true }, y: { stacked: true } } });

    breakdownChart("chart-initial", initial);
    breakdownChart("chart-os", os, "doughnut");
    breakdownChart("chart-runtime", runtime);
    breakdownChart("chart-arch", arch, "doughnut");
    breakdownChart("chart-ci", ci, "doughnut");
    breakdownChart("chart-country", country);
    breakdownChart("chart-errors", errors);

    rows("commands", commands, (c) => [[c.command], [fig(c, "runs"), true], [fig(c, "installs"), true], [fig(c, "failure_rate", percent), true], [fig(c, "p50_ms"), true], [fig(c, "p95_ms"), true]]);
    rows("operations", operations, (o) => [[o.command], [fig(o, "runs"), true], [fig(o, "failure_rate", percent), true], [fig(o, "p50_ms"), true]]);
    if (quarantine) {
      $("tile-rejected").textContent = number(quarantine.total);
      draw("chart-quarantine", "bar", quarantine.by_reason.map((r) => r.label),
        [{ label: "rejected events", data: quarantine.by_reason.map((r) => r.events) }], { indexAxis: "y" });
      rows("quarantine-schemas", quarantine.by_schema, (r) => [[r.label], [number(r.events), true]]);
    }
    if (installs) {
      rows("installs", installs, (i) => [[i.install_id], [i.first_seen.slice(0, 10)], [i.last_seen.slice(0, 10)], [number(i.events), true]]);
    }
    rows("events", events, (e) => [[e.label], [fig(e, "events"), true], [fig(e, "installs"), true]]);
    showServices(services);
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    if (error.unauthorized) { signOut("The token was refused."); return; }
    $("load-error").textContent = "Could not load the dashboard: " + error.message;
    $("load-error").hidden = false;
  }
}

// The Services section: only for a product that sent service events (startup, shutdown, request usage).
function showServices(services) {
  // Under the viewer token the count may be withheld: then the section shows when anything was grouped.
  const any = withheld(services, "events")
    ? services.routes.length + services.http_errors.length + services.clients.length + services.errors.length + services.clouds.length > 0
    : services.events > 0;
  $("services").hidden = !any;
  if (!any) return;
  const i = services.instances;
  $("services-live").textContent = fig(i, "live");
  $("services-started").textContent = fig(i, "started");
  $("services-startup").textContent = withheld(i, "startup_p50_ms") ? fewer(i) : number(i.startup_p50_ms) + " / " + number(i.startup_p95_ms) + " ms";
  $("services-uptime").textContent = fig(i, "uptime_p50_seconds", duration);
  const text = (value) => value || "–";
  rows("routes", services.routes, (r) => [[r.route], [r.method || ""], [fig(r, "requests"), true], [fig(r, "error_rate", percent), true], [fig(r, "p50_ms", text), true], [fig(r, "p95_ms", text), true]]);
  rows("http-errors", services.http_errors, (r) => [[r.error_code], [r.status ? String(r.status) : ""], [fig(r, "requests"), true]]);
  const groups = (r) => [[r.label], [fig(r, "count"), true], [fig(r, "installs"), true]];
  rows("clients", services.clients, groups);
  rows("languages", services.languages, groups);
  rows("clouds", services.clouds, groups);
  rows("service-errors", services.errors.concat(services.shutdown_reasons.map((r) => ({ ...r, label: "shutdown: " + r.label }))),
    (r) => [[r.label], [fig(r, "count"), true]]);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

async function showDashboard() {
  reader = await get("/role");
  $("role").textContent = isViewer()
    ? "viewer — k-anonymous answers (k = " + reader.k + "): figures from fewer than " + reader.k + " installs are withheld"
    : "admin — every figure";
  document.body.dataset.role = reader.role;
  // What only the admin reads is not shown to the viewer.
  for (const element of document.querySelectorAll("[data-admin-only]")) element.hidden = isViewer();
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
  try { await showDashboard(); } catch (error) { signOut(error.unauthorized ? "The token was refused." : error.message); }
});
$("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("signout").addEventListener("click", () => signOut());

const today = new Date();
$("to").value = isoDay(today);
$("from").value = isoDay(new Date(today.getTime() - 29 * 86400000));
if (token()) { showDashboard().catch((error) => signOut(error.unauthorized ? "The token was refused." : error.message)); } else { signOut(); }
