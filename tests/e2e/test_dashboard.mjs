// The dashboard's end-to-end test: a real `concord serve` over the demo
// mission, driven by Debian's chromium through playwright-core (installed in
// web/node_modules by scripts/web-deps). It checks sign-in (a missing and a
// bad token); that the Overview, Funding, Force and Aid pages show every
// figure of the API's reports they hold, formatted here independently of
// web/format.js; that the Conditions page shows what POST /v1/scenario and
// GET /v1/forecast answer; that a writer's forms record a pledge, refuse a
// bad amount and resolve a condition; that the charts are drawn; that the
// Ledger page's tree of accounts shows a prefix's net posted balance and
// opens an account's history, and that the Ledger page shows a transfer's
// audit proof; that the Audit page shows the checkpoint's size, lists the
// recent events for a coordinator and says a viewer does not read them; that
// every page names its controls and charts, has readable contrast (WCAG 2.x),
// is usable from the keyboard and does not scroll sideways on a 13" laptop or
// a tablet; that a viewer is offered nothing that writes; and that no page
// breaks the Content Security Policy. It saves a screenshot of every page and
// form.
//
// usage: node tests/e2e/test_dashboard.mjs CONCORD_BINARY [SCREENSHOT_DIR]
// (SCREENSHOT_DIR defaults to build/screenshots; a relative one is taken
// from the repository's root). Exits 0 when every check passes.

import {execFileSync} from 'node:child_process';
import {createRequire} from 'node:module';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {serverStart, serverStop} from './server.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STEP_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 280_000; // under CTest's 300 s, so the cleanup runs
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const concord = process.argv[2];
if (!concord) {
  console.error('usage: node tests/e2e/test_dashboard.mjs CONCORD_BINARY [SCREENSHOT_DIR]');
  process.exit(2);
}
const screenshotDir = path.resolve(REPO_ROOT, process.argv[3] ?? 'build/screenshots');
const {chromium} = createRequire(path.join(REPO_ROOT, 'web', 'package.json'))('playwright-core');

// ---------------------------------------------------------------- helpers

function step(name) {
  console.log(`e2e: ${name}`);
}

// The API's amounts as people read them, written independently of web/format.js.
function usd(cents) {
  return new Intl.NumberFormat('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2}).format(cents / 100);
}
function count(n) {
  return new Intl.NumberFormat('en-US', {maximumFractionDigits: 0}).format(n);
}
function percent(p) {
  return `${(p * 100).toFixed(1)}%`;
}
// Stock and deliveries: kilograms from 1,000 on read as tonnes with three
// decimals ("2,478.000 t"); other units (and fewer kilograms) as counts.
function quantity(value, unit) {
  if (unit !== 'KG' || Math.abs(value) < 1000) return count(value);
  const sign = value < 0 ? '-' : '';
  const kg = Math.abs(value);
  return `${sign}${count(Math.floor(kg / 1000))}.${String(kg % 1000).padStart(3, '0')} t`;
}
// A quantity's cells as tableRead gives them: the text, and for tonnes the
// exact kilograms in the title.
function quantityCells(col, value, unit) {
  const text = quantity(value, unit);
  return text.endsWith(' t') ? {[col]: text, [`${col}.title`]: `${count(value)} kg`} : {[col]: text};
}
// Tonnes with one decimal from kilograms, rounded half up: 1234550 → "1,234.6".
function tonnesOneDecimal(kg) {
  const tenths = Math.round(kg / 100);
  return `${count(Math.floor(tenths / 10))}.${tenths % 10}`;
}
function countOrDash(n) {
  return n === null || n === undefined ? '—' : count(n);
}

function concordRun(db, ...args) {
  return execFileSync(concord, ['--db', db, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

function tokenCreate(db, user, role, party) {
  const args = ['token', 'create', '--user', user, '--role', role, '--json'];
  if (party) args.push('--party', party);
  return JSON.parse(concordRun(db, ...args)).token;
}

async function apiGet(base, token, route) {
  const response = await fetch(base + route, {headers: {Authorization: `Bearer ${token}`}});
  assert.equal(response.status, 200, `GET ${route}`);
  return response.json();
}

async function apiPost(base, token, route, body) {
  const response = await fetch(base + route, {
    method: 'POST', body: JSON.stringify(body),
    headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'},
  });
  assert.equal(response.status, 200, `POST ${route}`);
  return response.json();
}

// A page that records console errors, failed requests and uncaught exceptions.
async function pageOpen(browser, problems) {
  const context = await browser.newContext({viewport: {width: 1280, height: 800}});
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) {
      problems.push(`console error: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  return {context, page};
}

async function pageReady(page, route) {
  await page.locator(`main[data-page="${route}"][data-state="ready"]`).waitFor();
}

async function screenshot(page, name) {
  await page.screenshot({path: path.join(screenshotDir, `${name}.png`), fullPage: true});
}

// The Conditions page shows one probability bar per requirement of the
// forecast, labelled with its p_met as a percentage.
async function forecastBarsCheck(page, forecast) {
  const rows = page.locator('[data-forecast] li.forecast-row');
  assert.equal(await rows.count(), forecast.requirements.length, 'one bar per requirement');
  for (const r of forecast.requirements) {
    const row = page.locator(`[data-forecast] li[data-requirement="${r.id}"]`);
    assert.equal(await row.locator('[role="meter"]').count(), 1, `${r.id}: a bar`);
    assert.equal(await row.locator('[data-percent]').textContent(), percent(r.p_met), `${r.id}: p_met`);
  }
}

// A table of the page (table[data-table=name]) as {rows: {data-row: {data-col:
// text, 'data-col.title': a titled element's title}}, count, foot}.
async function tableRead(page, name) {
  const shown = await page.evaluate((tableName) => {
    const table = document.querySelector(`main table[data-table="${tableName}"]`);
    if (!table) return null;
    const read = (tr) => {
      const cells = {};
      for (const cell of tr.querySelectorAll('[data-col]')) {
        cells[cell.dataset.col] = cell.textContent;
        const titled = cell.querySelector('[title]');
        if (titled) cells[`${cell.dataset.col}.title`] = titled.title;
      }
      return cells;
    };
    const rows = {};
    let count = 0;
    for (const tr of table.tBodies[0]?.rows ?? []) {
      rows[tr.dataset.row] = read(tr);
      count += 1;
    }
    return {rows, count, foot: table.tFoot ? read(table.tFoot.rows[0]) : null};
  }, name);
  assert.ok(shown, `the page shows the table "${name}"`);
  return shown;
}

// Compares a table's body with the rows expected, keyed by data-row.
async function tableCheck(page, name, expected) {
  const shown = await tableRead(page, name);
  assert.deepEqual(shown.rows, expected, `table "${name}"`);
  assert.equal(shown.count, Object.keys(expected).length, `table "${name}": one row per key`);
  return shown;
}

// Every [data-figure] of the page: {key: text}.
async function figuresRead(page) {
  return page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll('main [data-figure]')].map((el) => [el.dataset.figure, el.textContent])));
}

async function navigate(page, route) {
  await page.locator(`nav a[data-route="${route}"]`).click();
  await pageReady(page, route);
  assert.equal(await page.locator(`nav a[data-route="${route}"]`).getAttribute('aria-current'), 'page');
  assert.equal(await page.locator('nav a[aria-current="page"]').count(), 1);
}

// ---------------------------------------------------------------- each page's figures

const FORCE_STAGES = ['pledged', 'accepted', 'training', 'certified', 'deployed', 'rotated'];

// The Overview: the fund's totals, the deployed count and persons per stage,
// the force's targets in persons, aid needed and delivered summed over the
// points per unit, and every condition with the pledges it still decides.
async function overviewFiguresCheck(page, {funding, force, aid, conditions}) {
  const shown = await figuresRead(page);
  for (const key of ['required', 'pledged', 'committed', 'disbursed']) {
    assert.equal(shown[`funding.${key}`], usd(funding.totals[key]), key);
  }
  assert.equal(shown['force.deployed'], count(force.stages.deployed));
  await tableCheck(page, 'force-stages', Object.fromEntries(FORCE_STAGES.filter((stage) => stage in force.stages)
    .map((stage) => [stage, {persons: count(force.stages[stage])}])));
  const sums = {};
  for (const point of aid.delivery.points) {
    if (!point.unit) continue;
    const sum = sums[point.unit] ?? (sums[point.unit] = {need: 0, delivered: 0});
    sum.need += point.need;
    sum.delivered += point.delivered;
  }
  await tableCheck(page, 'aid-delivery', Object.fromEntries(Object.entries(sums).map(([unit, sum]) => [unit, {
    ...quantityCells('need', sum.need, unit), ...quantityCells('delivered', sum.delivered, unit),
    share: percent(sum.delivered / sum.need),
  }])));
  // What each open condition decides: the pending pledges of every
  // condition expression of the funding report that names it, directly or
  // through a derived condition's own expression. Resolved: nothing more.
  const when = new Map(conditions.filter((c) => c.when).map((c) => [c.name, c.when]));
  const names = (expression) => expression.split(/[^A-Za-z0-9_]+/).flatMap((n) => [n, ...(when.has(n) ? names(when.get(n)) : [])]);
  const decides = (c) => (c.state !== 'open' ? null : funding.by_condition
    .filter((row) => names(row.condition).includes(c.name))
    .reduce((sum, row) => sum + row.pending, 0));
  await tableCheck(page, 'conditions', Object.fromEntries(conditions.map((c) => [c.name, {
    state: c.state, probability: c.when ? `(${c.when})` : c.probability.toFixed(2),
    decides: decides(c) === null ? '—' : usd(decides(c)),
  }])));
  assert.ok(conditions.some((c) => decides(c) > 0), 'the demo: some condition still decides pledges');
  assert.ok(conditions.some((c) => c.state !== 'open'), 'the demo: a resolved condition decides nothing more');
  for (const t of force.targets.filter((t) => t.unit === force.unit)) {
    assert.equal(shown[`force.target.${t.requirement}`], `${count(t.posted)} of ${count(t.target)}`, t.requirement);
  }
}

// The Funding page: every total of the report, each donor's row (the name
// from GET /v1/parties) and each requirement's row.
async function fundingFiguresCheck(page, funding, parties) {
  assert.equal(funding.unit, 'USD');
  const names = new Map(parties.map((p) => [p.id, p.name]));
  const shown = await figuresRead(page);
  for (const [key, value] of Object.entries(funding.totals)) {
    assert.equal(shown[`funding.${key}`], usd(value), `the funding total ${key}`);
  }
  await tableCheck(page, 'by-donor', Object.fromEntries(funding.by_donor.map((d) => [d.donor, {
    donor: names.get(d.donor) ?? d.donor, pledged: usd(d.pledged), conditional: usd(d.conditional),
    committed: usd(d.committed),
  }])));
  await tableCheck(page, 'by-requirement', Object.fromEntries(funding.by_requirement.map((r) => [r.requirement, {
    requirement: r.requirement, required: usd(r.required), pledged: usd(r.pledged), committed: usd(r.committed),
    disbursed: usd(r.disbursed), spent: usd(r.spent),
  }])));
  await tableCheck(page, 'by-condition', Object.fromEntries(funding.by_condition.map((c) => [c.condition, {
    condition: c.condition, pledged: usd(c.pledged), committed: usd(c.committed), pending: usd(c.pending),
  }])));
  await tableCheck(page, 'by-month', Object.fromEntries(funding.by_month.map((m) => [m.month, {
    month: m.month, pledged: usd(m.pledged), committed: usd(m.committed), disbursed: usd(m.disbursed),
    spent: usd(m.spent),
  }])));
  const SOURCE_NAMES = {mission: 'The mission\'s own records', fts: 'OCHA FTS (imported)',
                        iati: 'IATI (imported)', hxl: 'HXL (imported)'};
  await tableCheck(page, 'by-source', Object.fromEntries(funding.by_source.map((r) => [r.source, {
    source: SOURCE_NAMES[r.source] ?? r.source, pledged: usd(r.pledged), committed: usd(r.committed),
    disbursed: usd(r.disbursed), spent: usd(r.spent),
  }])));
}

// Choosing one source on the Funding page shows that source's report, the
// one GET /v1/reports/funding?source= answers, and "every source" the whole.
async function fundingSourceCheck(page, base, token, source) {
  await page.locator('#funding-source').selectOption(source);
  // The page is drawn again for that source (the hash names it).
  await page.locator(`main[data-page="funding"][data-state="ready"] .cards[data-source="${source || 'all'}"]`)
    .waitFor();
  assert.equal(new URL(page.url()).hash, source ? `#funding?source=${source}` : '#funding');
  assert.equal(await page.locator('#funding-source').inputValue(), source);
  const report = await apiGet(base, token, `/v1/reports/funding${source ? `?source=${source}` : ''}`);
  const shown = await figuresRead(page);
  for (const [key, value] of Object.entries(report.totals)) {
    assert.equal(shown[`funding.${key}`], usd(value), `the funding total ${key} of source "${source}"`);
  }
  return report;
}

// The Force page: each contingent's persons per stage and days to
// deployment, the report's persons per stage under them, and each month's
// persons per stage.
async function forceFiguresCheck(page, force) {
  const stages = (row) => Object.fromEntries(FORCE_STAGES.map((stage) => [stage, count(row[stage] ?? 0)]));
  const contingents = await tableCheck(page, 'contingents', Object.fromEntries(force.contingents.map((c) => [c.contingent, {
    contingent: c.contingent, nation: c.nation, type: c.type, readiness: c.readiness, personnel: count(c.personnel),
    ...stages(c), days_to_deployment: countOrDash(c.days_to_deployment),
  }])));
  assert.deepEqual(contingents.foot, {
    contingent: 'All contingents', nation: '', type: '', readiness: '',
    personnel: count(force.contingents.reduce((sum, c) => sum + c.personnel, 0)),
    ...stages(force.stages), days_to_deployment: '',
  }, 'the contingents\' totals per stage');
  await tableCheck(page, 'history', Object.fromEntries(force.history.map((m) => [m.month, {month: m.month, ...stages(m)}])));
  const scaled = (amount, unit) => (unit === 'USD' ? usd(amount) : count(amount));
  await tableCheck(page, 'targets', Object.fromEntries(force.targets.map((t) => [t.requirement, {
    requirement: t.requirement, account: t.account, target: `${scaled(t.target, t.unit)} ${t.unit}`,
    posted: `${scaled(t.posted, t.unit)} ${t.unit}`, share: percent(t.posted / t.target),
  }])));
  await tableCheck(page, 'courses', Object.fromEntries(force.training.courses.map((c) => [c.course, {
    course: c.name ? `${c.name} (${c.course})` : c.course, capacity: count(c.capacity), seats_free: count(c.seats_free),
    in_training: count(c.in_training), certified: count(c.certified), duration_days: countOrDash(c.duration_days),
  }])));
  const shown = await figuresRead(page);
  assert.equal(shown['deployment.contingents'], count(force.deployment.contingents));
  assert.equal(shown['deployment.p50_days'], countOrDash(force.deployment.p50_days));
  assert.equal(shown['deployment.p90_days'], countOrDash(force.deployment.p90_days));
  assert.equal(shown['reimbursement.per_person_month'], usd(force.reimbursement.per_person_month));
  assert.equal(shown['reimbursement.deployed'], count(force.reimbursement.deployed));
  assert.equal(shown['reimbursement.monthly'], usd(force.reimbursement.monthly));
  assert.equal(shown['reimbursement.next_12_months'], usd(force.reimbursement.next_12_months));
}

// The Aid page: every crossing's trucks and the tonnes over the crossings
// per day; need, delivery and shortfall per point and commodity; stock per
// stage summed per unit, and per stage and commodity; dwell per stage.
async function aidFiguresCheck(page, aid) {
  const names = [...new Set(aid.crossings.map((c) => c.crossing))];
  const days = {};
  for (const c of aid.crossings) {
    const day = days[c.day] ?? (days[c.day] = {kg: 0, trucks: {}, tonnes: {}});
    day.kg += c.kg;
    day.trucks[c.crossing] = c.trucks;
    day.tonnes[c.crossing] = c.kg;
  }
  const perCrossing = (d, what, format) =>
    Object.fromEntries(names.map((name) => [`${what}.${name}`, name in d[what] ? format(d[what][name]) : '—']));
  await tableCheck(page, 'crossings', Object.fromEntries(Object.entries(days).map(([day, d]) => [day, {
    day, ...perCrossing(d, 'trucks', count), ...perCrossing(d, 'tonnes', tonnesOneDecimal), tonnes: tonnesOneDecimal(d.kg),
  }])));
  await tableCheck(page, 'delivery', Object.fromEntries(aid.delivery.points.map((p) => [`${p.point}.${p.commodity}`, {
    point: p.name ?? p.point, commodity: p.commodity, unit: p.unit ?? '',
    ...quantityCells('need', p.need, p.unit), ...quantityCells('delivered', p.delivered, p.unit),
    ...quantityCells('shortfall', p.shortfall, p.unit), share: p.need ? percent(p.delivered / p.need) : '—',
  }])));
  const perStage = {};
  for (const s of aid.stock_by_commodity) {
    const key = `${s.stage}.${s.unit}`;
    perStage[key] = perStage[key] ?? {stage: s.stage, unit: s.unit, quantity: 0};
    perStage[key].quantity += s.quantity;
  }
  await tableCheck(page, 'stock', Object.fromEntries(Object.entries(perStage).map(([key, s]) => [key, {
    stage: s.stage, ...quantityCells('quantity', s.quantity, s.unit), unit: s.unit,
  }])));
  await tableCheck(page, 'stock-by-commodity', Object.fromEntries(aid.stock_by_commodity.map((s) => [
    `${s.stage}.${s.commodity}.${s.unit}`,
    {stage: s.stage, commodity: s.commodity, ...quantityCells('quantity', s.quantity, s.unit), unit: s.unit}])));
  await tableCheck(page, 'dwell', Object.fromEntries(aid.dwell.map((d) => [d.stage, {
    stage: d.stage, consignments: count(d.consignments), p50_hours: countOrDash(d.p50_hours),
    p90_hours: countOrDash(d.p90_hours),
  }])));
  await tableCheck(page, 'losses', Object.fromEntries(aid.losses.map((l) => [`${l.stage}.${l.commodity}`, {
    stage: l.stage, commodity: l.commodity, moves: count(l.moves), ...quantityCells('quantity', l.quantity, l.unit),
  }])));
  await tableCheck(page, 'rejections', Object.fromEntries(aid.rejections.map((r) => [`${r.reason}.${r.commodity}`, {
    reason: r.reason, commodity: r.commodity, count: count(r.count), ...quantityCells('quantity', r.quantity, r.unit),
  }])));
}

// ---------------------------------------------------------------- accessibility and layout

const ROUTES = ['overview', 'funding', 'conditions', 'force', 'aid', 'ledger', 'audit'];
const LAYOUTS = [
  {name: 'laptop', width: 1280, height: 800},            // a 13" laptop
  {name: 'tablet', width: 820, height: 1180},            // a tablet, portrait
  {name: 'tablet-landscape', width: 1180, height: 820},
];
const CONTRAST_MIN = 4.5;
const CONTRAST_MIN_LARGE = 3;

// Installed in every document of the accessibility checks' context (as
// window.__e2e), so that each check is one page.evaluate.
function browserHelpers() {
  // "main > section.card > table[data-table=dwell] > td[data-col=stage]"
  function describe(el) {
    const parts = [];
    for (let node = el; node && node !== document.body && parts.length < 4; node = node.parentElement) {
      let part = node.tagName.toLowerCase();
      if (node.id) part += `#${node.id}`;
      else if (node.classList.length) part += `.${[...node.classList].join('.')}`;
      const data = Object.entries(node.dataset)[0];
      if (data) part += `[data-${data[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${data[1]}]`;
      parts.unshift(part);
    }
    return parts.join(' > ');
  }
  function textOfIds(ids) {
    return (ids ?? '').split(/\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
  }
  // A form control's accessible name: aria-labelledby, aria-label or its labels.
  function controlName(el) {
    return textOfIds(el.getAttribute('aria-labelledby')) || (el.getAttribute('aria-label') ?? '').trim()
      || [...(el.labels ?? [])].map((label) => label.textContent).join(' ').trim();
  }
  // A button's or link's: aria-labelledby, aria-label or its text.
  function contentName(el) {
    return textOfIds(el.getAttribute('aria-labelledby')) || (el.getAttribute('aria-label') ?? '').trim()
      || el.textContent.trim() || [...el.querySelectorAll('img[alt]')].map((img) => img.alt).join(' ').trim();
  }
  function visible(el) {
    return el.getClientRects().length > 0 && getComputedStyle(el).visibility === 'visible';
  }
  function rgba(text) {
    const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(text);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
  }
  function over(top, bottom) { // top (with alpha) over an opaque bottom
    return [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  }
  function luminance([r, g, b]) {
    const channel = (v) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  }
  // The background behind el: its and its ancestors' background colours,
  // composited down to the first opaque one (white, the canvas, if none is).
  function background(el) {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (!color) return {error: `background ${getComputedStyle(node).backgroundColor} of ${describe(node)}`};
      if (color[3] > 0) layers.push(color);
      if (color[3] === 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return {color: result};
  }
  function opacity(el) {
    let product = 1;
    for (let node = el; node; node = node.parentElement) product *= Number(getComputedStyle(node).opacity);
    return product;
  }
  const css = ([r, g, b, a]) => `rgba(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)}, ${+a.toFixed(2)})`;

  // Names, text alternatives and contrast over the whole document.
  function audit(minimumText, minimumLarge) {
    const problems = {unnamedControls: [], unnamedButtons: [], charts: [], contrast: [], checked: 0};
    for (const el of document.querySelectorAll('input:not([type="hidden"]), select, textarea')) {
      if (!controlName(el)) problems.unnamedControls.push(describe(el));
    }
    for (const el of document.querySelectorAll('button, a[href], [role="button"], [role="link"]')) {
      if (!contentName(el)) problems.unnamedButtons.push(describe(el));
    }
    for (const el of document.querySelectorAll('[role="img"], [role="meter"]')) {
      if (!contentName(el) && !(el.getAttribute('aria-label') ?? '').trim()) problems.charts.push(`${describe(el)}: no name`);
    }
    for (const el of document.querySelectorAll('.chart, canvas')) {
      const img = el.closest('[role="img"]');
      if (!img || !(img.getAttribute('aria-label') ?? '').trim()) problems.charts.push(`${describe(el)}: not inside a named role="img"`);
    }
    for (const el of document.body.querySelectorAll('*')) {
      if (!visible(el) || el.matches(':disabled')) continue;
      if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
      problems.checked += 1;
      const style = getComputedStyle(el);
      const behind = background(el);
      const ink = rgba(style.color);
      if (behind.error || !ink) {
        problems.contrast.push(`${describe(el)}: cannot read ${behind.error ?? `color ${style.color}`}`);
        continue;
      }
      ink[3] *= opacity(el);
      const fg = over(ink, behind.color);
      const [lighter, darker] = [luminance(fg), luminance(behind.color)].sort((x, y) => y - x);
      const ratio = (lighter + 0.05) / (darker + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const minimum = large ? minimumLarge : minimumText;
      if (ratio < minimum) {
        problems.contrast.push(`${describe(el)} "${el.textContent.trim().slice(0, 30)}": ${css(fg)} on ` +
          `${css(behind.color)}, ${ratio.toFixed(2)} < ${minimum}`);
      }
    }
    return problems;
  }

  // The element that has the focus, and whether it shows it.
  function focused() {
    const el = document.activeElement;
    if (!el || el === document.body) return {description: 'body', where: 'none'};
    const style = getComputedStyle(el);
    return {
      description: describe(el),
      where: el.closest('nav') ? 'nav' : el.closest('main') ? 'main' : el.closest('header') ? 'header' : 'other',
      route: el.closest('nav') ? el.dataset.route ?? null : null,
      control: el.matches('input, select, textarea, button'),
      first: el === firstControl(),
      indicator: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
      outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; box-shadow ${style.boxShadow}`,
    };
  }
  // The first form control of main that Tab stops at, in document order.
  function firstControl() {
    for (const el of document.querySelectorAll('main input, main select, main textarea, main button')) {
      if (el.disabled || el.tabIndex < 0 || !visible(el)) continue;
      if (el.type === 'radio' && !el.checked && el.form === null
          && document.querySelector(`input[type="radio"][name="${CSS.escape(el.name)}"]:checked`)) continue;
      return el;
    }
    return null;
  }
  // The innermost elements that reach, or whose content reaches, past the
  // window's right edge, outside any container that scrolls sideways.
  function overflow() {
    const width = window.innerWidth;
    const scrolls = document.documentElement.scrollWidth;
    const wide = [];
    if (scrolls > width) {
      const scroller = (el) => {
        for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
          if (getComputedStyle(node).overflowX !== 'visible') return node;
        }
        return null;
      };
      for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        const reach = getComputedStyle(el).overflowX === 'visible' ? Math.max(box.right, box.left + el.scrollWidth) : box.right;
        if (reach > width + 0.5 && !scroller(el)) wide.push({el, reach});
      }
    }
    const innermost = wide.filter(({el}) => !wide.some((other) => other.el !== el && el.contains(other.el)));
    return {width, scrolls, wide: innermost.slice(0, 8).map(({el, reach}) => `${describe(el)} (reaches ${Math.round(reach)} px)`)};
  }
  window.__e2e = {audit, focused, firstControl: () => (firstControl() ? describe(firstControl()) : null), overflow};
}

// Names, text alternatives and contrast of what the page shows now.
async function auditCheck(page, where) {
  const found = await page.evaluate(([text, large]) => window.__e2e.audit(text, large),
                                    [CONTRAST_MIN, CONTRAST_MIN_LARGE]);
  assert.ok(found.checked > 0, `${where}: some text is checked`);
  assert.deepEqual(found.unnamedControls, [], `${where}: every input, select and textarea has a label`);
  assert.deepEqual(found.unnamedButtons, [], `${where}: every button and link has a name`);
  assert.deepEqual(found.charts, [], `${where}: every chart has a text alternative`);
  assert.deepEqual(found.contrast, [], `${where}: text contrast (WCAG 2.x, ${CONTRAST_MIN}:1, large text ${CONTRAST_MIN_LARGE}:1)`);
}

// Tab from the top of the page: the header's controls, then every link of
// the navigation in order, then (where the page has one) its first form
// control; each element shows that it has the focus.
async function keyboardCheck(page, route) {
  const links = await page.locator('nav a').evaluateAll((all) => all.map((a) => a.dataset.route));
  const first = await page.evaluate(() => window.__e2e.firstControl());
  const seen = [];
  for (let i = 0; i < links.length + 12; i++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => window.__e2e.focused());
    seen.push(focus);
    const navPassed = seen.filter((f) => f.where === 'nav').length >= links.length;
    if (focus.where === 'main' && navPassed && (focus.control || !first)) break;
    if (focus.where === 'none' || focus.where === 'other') break;
  }
  const order = seen.map((f) => f.description).join('\n  ');
  const firstNav = seen.findIndex((f) => f.where === 'nav');
  assert.ok(firstNav >= 0, `${route}: Tab reaches the navigation:\n  ${order}`);
  assert.ok(seen.slice(0, firstNav).every((f) => f.where === 'header'), `${route}: only the header comes before the navigation:\n  ${order}`);
  assert.deepEqual(seen.slice(firstNav, firstNav + links.length).map((f) => f.route), links,
                   `${route}: Tab goes through the navigation's links in order:\n  ${order}`);
  if (first) {
    const last = seen[seen.length - 1];
    assert.ok(last.first, `${route}: after the navigation, Tab reaches the page's first form control (${first}):\n  ${order}`);
    assert.ok(seen.slice(firstNav + links.length).every((f) => f.where === 'main'), `${route}: ${order}`);
  }
  const unmarked = seen.filter((f) => f.where !== 'none' && !f.indicator).map((f) => `${f.description}: ${f.outline}`);
  assert.deepEqual(unmarked, [], `${route}: every element focused from the keyboard shows a focus indicator`);
}

// At each window size, the page does not scroll sideways (a wide table
// scrolls inside its own container).
async function layoutCheck(page, route) {
  for (const layout of LAYOUTS) {
    await page.setViewportSize({width: layout.width, height: layout.height});
    // two frames: the charts follow their cards' new width
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const found = await page.evaluate(() => window.__e2e.overflow());
    assert.ok(found.scrolls <= found.width,
              `${route} at ${layout.width}×${layout.height}: the page is ${found.scrolls} px wide in a ` +
              `${found.width} px window: ${found.wide.join('; ')}`);
    if (layout.name === 'tablet') await screenshot(page, `${route}-tablet`);
  }
  await page.setViewportSize({width: LAYOUTS[0].width, height: LAYOUTS[0].height});
}

// Every page, as a coordinator (who also sees the forms): names, contrast,
// the keyboard, the layout at three window sizes; Enter on the next page's
// link opens it.
async function accessibilityChecks(browser, base, token, problems) {
  const {context, page} = await pageOpen(browser, problems);
  await context.addInitScript(browserHelpers);

  step('accessibility: the sign-in form');
  await page.goto(`${base}/`);
  await page.getByLabel('Access token').waitFor({state: 'visible'});
  await page.getByLabel('Access token').fill('cct_0000000000000000_not-a-real-token');
  await page.keyboard.press('Enter');
  await page.locator('#token-error', {hasText: 'That token is not valid'}).waitFor();
  await auditCheck(page, 'sign-in');

  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await pageReady(page, 'overview');
  for (const [i, route] of ROUTES.entries()) {
    step(`accessibility and layout: ${route}`);
    await page.reload(); // Tab starts from the top of the page
    await pageReady(page, route);
    await auditCheck(page, route);
    await keyboardCheck(page, route);
    await layoutCheck(page, route);
    const next = ROUTES[(i + 1) % ROUTES.length];
    await page.locator(`nav a[data-route="${next}"]`).focus();
    await page.keyboard.press('Enter');
    await pageReady(page, next);
    assert.equal(new URL(page.url()).hash, `#/${next}`, `Enter on the link to ${next}`);
  }
  await context.close();
}

// ---------------------------------------------------------------- the steps

async function signInChecks(browser, base, problems) {
  step('(a) / asks for a token; a bad token is refused');
  const {context, page} = await pageOpen(browser, problems);
  // Signed out, the page asks for nothing once it has loaded: a request of
  // its own then (as the icon's was) would be cut off by a reload or a
  // navigation soon after. The wait can only miss such a request, not make one.
  const afterLoad = [];
  let loaded = false;
  page.on('load', () => { loaded = true; });
  page.on('request', (request) => { if (loaded) afterLoad.push(request.url()); });
  await page.goto(base + '/');
  const input = page.getByLabel('Access token');
  await input.waitFor({state: 'visible'});
  await page.waitForTimeout(1000);
  assert.deepEqual(afterLoad, [], 'no request after the page has loaded');
  assert.equal(await page.locator('#shell').isVisible(), false);
  await screenshot(page, 'sign-in');
  // /v1/me answers after /v1/units, both 401: the message must wait for both,
  // or closing the page right after it would leave /v1/me in flight.
  let meReleased = false;
  await page.route('**/v1/me', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    meReleased = true; // the answer can only come after this
    await route.continue();
  });
  await input.fill('cct_0000000000000000_not-a-real-token');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('#token-error', {hasText: 'That token is not valid'}).waitFor();
  assert.ok(meReleased, 'the refusal is shown once /v1/me has answered, not before');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('concord.token')), null);
  await screenshot(page, 'sign-in-refused');
  await context.close();
}

async function coordinatorChecks(browser, base, token, problems) {
  const funding = await apiGet(base, token, '/v1/reports/funding');
  const force = await apiGet(base, token, '/v1/reports/force');
  const aid = await apiGet(base, token, '/v1/reports/aid');
  const conditions = await apiGet(base, token, '/v1/conditions');
  const parties = await apiGet(base, token, '/v1/parties');
  const checkpoint = await apiGet(base, token, '/v1/audit/checkpoint');
  const before = await apiPost(base, token, '/v1/scenario', {assume: {}});
  const after = await apiPost(base, token, '/v1/scenario', {assume: {two_state: 'met'}});
  const range = (scenario) => {
    const pool = scenario.requirements.find((r) => r.id === 'pool');
    return `${usd(pool.low)} – ${usd(pool.high)}`;
  };
  assert.notEqual(range(before), range(after), 'the demo: two_state decides part of the pool');

  step('(b) /?token= signs in; the Overview shows the API\'s figures');
  const {context, page} = await pageOpen(browser, problems);
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await pageReady(page, 'overview');
  assert.ok(!page.url().includes('token='), `the token is removed from the address bar: ${page.url()}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('concord.token')), token);
  assert.equal(await page.evaluate(() => document.body.dataset.canWrite), 'true');
  await overviewFiguresCheck(page, {funding, force, aid, conditions});
  assert.ok(await page.locator('.chart canvas').count() >= 1, 'the force chart is drawn (uPlot loaded)');
  await screenshot(page, 'overview');

  step('Funding: every total, each donor\'s and each requirement\'s row; the by-donor chart');
  await navigate(page, 'funding');
  await fundingFiguresCheck(page, funding, parties);
  assert.ok(await page.locator('.chart canvas').count() >= 1, 'the by-donor chart is drawn');
  await screenshot(page, 'funding');
  step('Funding by source: the mission\'s own, an import (none here), then every source again');
  const own = await fundingSourceCheck(page, base, token, 'mission');
  assert.deepEqual(own.totals, funding.totals, 'the demo records all its funding itself');
  const fts = await fundingSourceCheck(page, base, token, 'fts');
  assert.equal(fts.totals.pledged, 0, 'nothing was imported from FTS');
  await fundingSourceCheck(page, base, token, '');

  step('(c) Conditions: two_state met changes the pool\'s low–high range');
  await navigate(page, 'conditions');
  await forecastBarsCheck(page, await apiGet(base, token, '/v1/forecast'));
  const poolRange = page.locator('tr[data-row="pool"] td[data-col="range"]');
  assert.equal(await poolRange.textContent(), range(before));
  await page.locator('fieldset[data-condition="two_state"]').getByLabel('met').check();
  await page.locator('.scenario[data-assume=\'{"two_state":"met"}\']').waitFor();
  assert.equal(await poolRange.textContent(), range(after));
  await screenshot(page, 'conditions');

  step('Force: each contingent\'s row, the totals per stage, each month\'s row; a chart');
  await navigate(page, 'force');
  await forceFiguresCheck(page, force);
  assert.ok(await page.locator('main .chart canvas').count() >= 1, 'force draws a chart');
  await screenshot(page, 'force');

  step('Aid: crossings per day, delivery against need, stock, dwell; the charts');
  await navigate(page, 'aid');
  await aidFiguresCheck(page, aid);
  assert.equal(await page.locator('main .chart canvas').count(), 2, 'aid draws its two charts');
  await screenshot(page, 'aid');

  await navigate(page, 'ledger');
  assert.ok(await page.locator('main table tbody tr').count() > 0, 'ledger lists rows');
  await screenshot(page, 'ledger');

  step('Ledger: the tree shows fund; expanding it shows fund.pool\'s net posted balance');
  const poolRows = await apiGet(base, token, '/v1/balances?prefix=fund.pool');
  assert.equal(poolRows.length, 1, 'the demo: fund.pool holds one unit');
  const poolNet = `${usd(poolRows[0].credits_posted - poolRows[0].debits_posted)} ${poolRows[0].unit}`;
  const fundNode = page.locator('ul.tree > li[data-node="fund"] > button.tree-node');
  await fundNode.waitFor();
  assert.equal(await fundNode.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('li[data-node="fund.pool"]').count(), 0, 'children are built when expanded');
  await fundNode.focus();
  await page.keyboard.press('Enter');
  assert.equal(await fundNode.getAttribute('aria-expanded'), 'true');
  const poolBalance = page.locator('li[data-node="fund.pool"] [data-balance="fund.pool"]');
  await page.waitForFunction(() => {
    const text = document.querySelector('[data-balance="fund.pool"]')?.textContent;
    return text && text !== '…';
  });
  assert.equal(await poolBalance.textContent(), poolNet);
  await screenshot(page, 'ledger-tree');
  await page.locator('li[data-node="fund.pool"] > button.tree-node').click();
  await page.locator('.history[data-account="fund.pool"] tbody tr').first().waitFor();
  assert.equal(await page.locator('#history-account').inputValue(), 'fund.pool');
  await fundNode.click();
  assert.equal(await fundNode.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('li[data-node="fund.pool"]').isVisible(), false);

  await navigate(page, 'audit');
  assert.equal(await page.locator('pre[data-checkpoint]').textContent(), checkpoint.checkpoint);
  const shownSize = (await figuresRead(page))['checkpoint.size'];
  assert.equal(Number(shownSize?.replaceAll(',', '')), checkpoint.size, `the checkpoint's size (${shownSize})`);
  assert.ok(await page.locator('main table tbody tr').count() > 0, 'a coordinator sees the events');
  const latestSeq = Number(await page.locator('main table tbody tr').first().locator('td[data-col="seq"]').textContent());
  const shownCheckpoint = await apiGet(base, token, '/v1/audit/checkpoint');
  assert.ok(latestSeq >= 1 && latestSeq <= shownCheckpoint.size, `the latest event shown (${latestSeq})`);
  assert.equal(await page.locator('[data-events-refused]').count(), 0);
  await screenshot(page, 'audit');

  step('the navigation works from the keyboard');
  await page.locator('nav a[data-route="overview"]').focus();
  await page.keyboard.press('Enter');
  await pageReady(page, 'overview');

  step('sign out');
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('Access token').waitFor({state: 'visible'});
  assert.equal(await page.evaluate(() => sessionStorage.getItem('concord.token')), null);
  await context.close();
}

async function formsChecks(browser, base, token, problems) {
  const {context, page} = await pageOpen(browser, problems);
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await pageReady(page, 'overview');

  step('forms: a bad amount is refused next to the field, and nothing is sent');
  await navigate(page, 'funding');
  const pledge = page.locator('form[data-form="pledge"]');
  let batches = 0;
  page.on('request', (request) => { if (request.url().endsWith('/v1/batch')) batches += 1; });
  await pledge.locator('#pledge-donor').selectOption('us');
  await pledge.locator('#pledge-amount').fill('abc');
  await pledge.getByRole('button', {name: 'Record pledge'}).click();
  const amountError = pledge.locator('[data-error-for="amount"]');
  await page.waitForFunction(() => document.querySelector('[data-error-for="amount"]')?.textContent !== '');
  assert.match(await amountError.textContent(), /amount/i);
  assert.equal(await pledge.locator('#pledge-amount').getAttribute('aria-invalid'), 'true');
  await page.waitForTimeout(200);
  assert.equal(batches, 0, 'a refused amount sends nothing');
  await screenshot(page, 'form-pledge-refused');

  step('forms: record a pledge (us, 2,500,000.00, if two_state)');
  await pledge.locator('#pledge-amount').fill('2,500,000.00');
  await pledge.locator('#pledge-condition').selectOption('two_state');
  await pledge.locator('#pledge-sector').fill('health');
  await pledge.getByRole('button', {name: 'Record pledge'}).click();
  const pledgeResult = pledge.locator('[data-result][data-status="created"]');
  await pledgeResult.waitFor();
  const pledgeId = await pledgeResult.getAttribute('data-id');
  assert.match(pledgeId, /^p-[0-9a-f]+$/);
  assert.equal(await amountError.textContent(), '');
  assert.equal(batches, 1);
  await screenshot(page, 'form-pledge');
  const recorded = await apiGet(base, token, `/v1/transfers/${pledgeId}`);
  assert.equal(recorded.amount, 250000000);
  assert.equal(recorded.debit, 'donor.us');
  assert.equal(recorded.if, 'two_state');

  step('Ledger: the pledge in fund.pool\'s history, and its audit proof');
  await navigate(page, 'ledger');
  await page.locator('#history-account').fill('fund.pool');
  await page.getByRole('button', {name: 'Show history'}).click();
  const row = page.locator(`.history tr[data-row="${pledgeId}"]`);
  await row.waitFor();
  assert.equal(await row.locator('td[data-col="amount"]').textContent(), '2,500,000.00');
  assert.equal(await row.locator('td[data-col="state"]').textContent(), 'pending');
  await row.getByRole('button', {name: pledgeId}).click();
  await page.locator(`[data-transfer="${pledgeId}"]`).waitFor();
  const proof = await apiGet(base, token, `/v1/audit/proof/${pledgeId}`);
  await page.locator('[data-figure="proof.leaf_index"]').waitFor();
  assert.equal(await page.locator('[data-figure="transfer.state"]').textContent(), 'pending');
  assert.equal(await page.locator('[data-figure="transfer.amount"]').textContent(), '2,500,000.00');
  assert.equal(await page.locator('[data-figure="proof.leaf_index"]').textContent(), String(proof.leaf_index));
  assert.equal(await page.locator('[data-figure="proof.tree_size"]').textContent(), String(proof.tree_size));
  assert.equal(await page.locator('pre[data-proof-checkpoint]').textContent(), proof.checkpoint);
  await screenshot(page, 'ledger-history');

  step('forms: resolve force_trained met; its pledges post');
  const pool = await apiGet(base, token, '/v1/accounts/fund.pool/transfers?limit=1000');
  const gated = pool.transfers.filter((t) => t.if === 'force_trained' && t.state === 'pending');
  assert.ok(gated.length >= 1, 'the demo: a pledge waits on force_trained');
  await navigate(page, 'conditions');
  const resolve = page.locator('form[data-form="resolve-force_trained"]');
  await resolve.locator('select').selectOption('met');
  await resolve.getByRole('button', {name: 'Resolve'}).click();
  const resolved = resolve.locator('[data-result][data-status="resolved"]');
  await resolved.waitFor();
  assert.ok(Number(await resolved.getAttribute('data-posted')) >= 1, 'the resolution posted a pledge');
  assert.match(await resolved.textContent(), /posted \d+, voided \d+/);
  await page.locator('fieldset[data-condition="force_trained"]').waitFor({state: 'detached'});
  assert.equal(await page.locator('fieldset.choice[data-condition]').count() > 0, true, 'other conditions stay open');
  await page.locator('tr[data-row="force_trained"]', {hasText: 'met'}).waitFor();
  await forecastBarsCheck(page, await apiGet(base, token, '/v1/forecast'));
  await screenshot(page, 'form-resolve');
  for (const transfer of gated) {
    assert.equal((await apiGet(base, token, `/v1/transfers/${transfer.id}`)).state, 'posted', transfer.id);
  }

  step('forms: approve and consignment moves are offered');
  await navigate(page, 'funding');
  await page.locator('form[data-form="approve"]').waitFor();
  await navigate(page, 'aid');
  const move = page.locator('form[data-form="consignment-move"]');
  await move.locator('#move-to').selectOption('screened');
  assert.equal(await move.locator('#move-decision').isVisible(), true);
  await move.locator('#move-to').selectOption('entered');
  assert.equal(await move.locator('#move-decision').isVisible(), false);
  await move.locator('#move-consignment').fill('no-such-consignment');
  await move.getByRole('button', {name: 'Move'}).click();
  await move.locator('[data-result][data-status="invalid"]').waitFor();
  await screenshot(page, 'form-consignment-move');
  await context.close();
}

// ---------------------------------------------------------------- the browser as a witness

// The Audit page's checks, as {check: result} ("ok", "failed", "skipped"), and the verdict.
async function auditChecksRead(page) {
  await pageReady(page, 'audit');
  const checks = Object.fromEntries(await page.locator('ul.checks li[data-check]').evaluateAll((items) =>
    items.map((li) => [li.dataset.check, li.dataset.result])));
  return {checks, verdict: await page.locator('[data-verification]').getAttribute('data-verification')};
}

async function auditReload(page) {
  await page.reload();
  return auditChecksRead(page);
}

function checkText(page, check) {
  return page.locator(`ul.checks li[data-check="${check}"]`).textContent();
}

// Two ledgers that share their first batch and their key, then part: the
// same log rewritten. Returns {a, b}: database paths; a holds `extra` more
// events than b.
function fork(temp, extra) {
  const a = path.join(temp, 'fork-a.db');
  const b = path.join(temp, 'fork-b.db');
  concordRun(a, 'init');
  const apply = (db, ops) => execFileSync(concord, ['--db', db, 'apply'],
    {input: ops.map((o) => JSON.stringify(o)).join('\n') + '\n', encoding: 'utf8'});
  apply(a, [{op: 'unit', code: 'USD', scale: 2}, {op: 'account', id: 'x', unit: 'USD'}, {op: 'account', id: 'y', unit: 'USD'}]);
  for (const suffix of ['', '.key']) fs.copyFileSync(a + suffix, b + suffix);
  apply(a, [{op: 'transfer', id: 't1', debit: 'x', credit: 'y', amount: 100}]);
  apply(b, [{op: 'transfer', id: 't1', debit: 'x', credit: 'y', amount: 999}]);
  for (let i = 0; i < extra; i++) apply(a, [{op: 'transfer', id: `more${i}`, debit: 'x', credit: 'y', amount: 1}]);
  return {a, b};
}

async function witnessChecks(browser, base, token, db, temp, problems) {
  step('audit: the browser checks the key, the signature and every event shown');
  const {context, page} = await pageOpen(browser, problems);
  await page.goto(`${base}/?token=${encodeURIComponent(token)}#/audit`);
  let seen = await auditChecksRead(page);
  assert.deepEqual(seen, {checks: {key: 'ok', signature: 'ok', history: 'skipped', events: 'ok'}, verdict: 'ok'});
  const key = (await apiGet(base, token, '/v1/audit/key')).verifier;
  assert.equal(key, concordRun(db, 'key').trim());
  assert.match(await checkText(page, 'key'), new RegExp(`Verifier key ${key.replaceAll('+', '\\+')}`));
  await screenshot(page, 'audit-verified');

  step('audit: a batch later, the log is proved to extend the one checked');
  const before = (await apiGet(base, token, '/v1/audit/checkpoint')).size;
  const big = 9007199254740993n; // 2^53 + 1: a double cannot hold it
  const batch = '[{"op":"unit","code":"MICRO","scale":6},{"op":"account","id":"big.a","unit":"MICRO"},' +
    '{"op":"account","id":"big.b","unit":"MICRO"},' +
    `{"op":"transfer","id":"big-1","debit":"big.a","credit":"big.b","amount":${big}}]`;
  const response = await fetch(`${base}/v1/batch`, {method: 'POST', body: batch,
    headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}});
  assert.equal(response.status, 200);
  seen = await auditReload(page);
  assert.deepEqual(seen.checks, {key: 'ok', signature: 'ok', history: 'ok', events: 'ok'});
  assert.match(await checkText(page, 'history'), new RegExp(`log of ${before + 1} events extends the log of ${before} `));

  step('audit: a key the browser does not trust is reported, and accepted only on request');
  const otherDb = path.join(temp, 'other.db');
  concordRun(otherDb, 'init');
  const otherKey = concordRun(otherDb, 'key').trim();
  await page.evaluate((text) => localStorage.setItem('concord.audit.key',
    JSON.stringify({text, since: '2026-01-01T00:00:00Z'})), otherKey);
  seen = await auditReload(page);
  assert.deepEqual(seen, {checks: {key: 'failed', signature: 'failed'}, verdict: 'failed'});
  assert.match(await checkText(page, 'signature'), /no signature by/);
  assert.equal(await page.locator('[role="alert"][data-verification="failed"]').count(), 1);
  await screenshot(page, 'audit-key-changed');
  await page.getByRole('button', {name: 'Trust the new key'}).click();
  seen = await auditChecksRead(page);
  assert.deepEqual(seen.checks, {key: 'ok', signature: 'ok', history: 'skipped', events: 'ok'});
  await context.close();

  step('audit: a rewritten log is caught (same size, another root; fewer events)');
  const {a, b} = fork(temp, 2); // b's token adds an event: a holds one more
  const forkToken = tokenCreate(b, 'e2e-fork', 'auditor');
  const forkServer = await serverStart(concord, b);
  try {
    const fork = await pageOpen(browser, problems);
    await fork.page.goto(`${forkServer.base}/?token=${encodeURIComponent(forkToken)}#/audit`);
    assert.equal((await auditChecksRead(fork.page)).verdict, 'ok');
    const bSize = (await apiGet(forkServer.base, forkToken, '/v1/audit/checkpoint')).size;
    for (const [size, pattern] of [[bSize, /another root/], [bSize + 1, /fewer than the/]]) {
      const note = JSON.parse(concordRun(a, 'consistency', '--from', String(size), '--to', String(size), '--json')).to_checkpoint;
      await fork.page.evaluate(([n, s]) => localStorage.setItem('concord.audit.checkpoint',
        JSON.stringify({note: n, size: s, checked: '2026-01-01T00:00:00Z'})), [note, size]);
      seen = await auditReload(fork.page);
      assert.deepEqual(seen, {checks: {key: 'ok', signature: 'ok', history: 'failed'}, verdict: 'failed'}, `size ${size}`);
      assert.match(await checkText(fork.page, 'history'), pattern);
      assert.match(await checkText(fork.page, 'history'), /history was rewritten/);
    }
    await screenshot(fork.page, 'audit-rewritten');
    await fork.context.close();
  } finally {
    await serverStop(forkServer);
  }

  step('ledger: an amount beyond 2^53 is shown to the last digit, and its proof checked here');
  const ledger = await pageOpen(browser, problems);
  await ledger.page.goto(`${base}/?token=${encodeURIComponent(token)}#/ledger`);
  await pageReady(ledger.page, 'ledger');
  await ledger.page.locator('#history-account').fill('big.b');
  await ledger.page.getByRole('button', {name: 'Show history'}).click();
  const row = ledger.page.locator('.history tr[data-row="big-1"]');
  await row.waitFor();
  assert.equal(await row.locator('td[data-col="amount"]').textContent(), '9,007,199,254.740993');
  await row.getByRole('button', {name: 'big-1'}).click();
  await ledger.page.locator('[data-proof-check]').waitFor();
  assert.equal(await ledger.page.locator('[data-proof-check]').getAttribute('data-proof-check'), 'ok');
  assert.match(await ledger.page.locator('[data-proof-check]').textContent(), /transfer big-1 was made by event \d+/);
  assert.equal(await ledger.page.locator('[data-figure="transfer.amount"]').textContent(), '9,007,199,254.740993');
  await ledger.context.close();
}

async function viewerChecks(browser, base, token, problems) {
  step('(d) a viewer is offered nothing that writes');
  const {context, page} = await pageOpen(browser, problems);
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await pageReady(page, 'overview');
  assert.equal(await page.evaluate(() => document.body.dataset.canWrite), 'false');
  await page.locator('#who', {hasText: 'viewer'}).waitFor();
  for (const route of ['overview', 'funding', 'conditions', 'force', 'aid', 'ledger', 'audit']) {
    if (route !== 'overview') await navigate(page, route);
    assert.equal(await page.locator('[data-write]').count(), 0, `no write control on ${route}`);
    assert.equal(await page.locator('form.write-form').count(), 0, `no write form on ${route}`);
  }
  await page.locator('pre[data-checkpoint]').waitFor();
  assert.deepEqual((await auditChecksRead(page)).checks, {key: 'ok', signature: 'ok', history: 'skipped'},
                   'a viewer\'s browser checks the key and the signature too');
  assert.equal(await page.locator('[data-events-refused]').textContent(), 'Your role does not read the event log.');
  assert.equal(await page.locator('main table').count(), 0, 'a viewer sees no events');
  await screenshot(page, 'viewer-audit');
  const own = (await apiGet(base, token, '/v1/accounts/donor.us/transfers?limit=1')).transfers[0];
  await navigate(page, 'ledger');
  await page.locator('#transfer-id').fill(own.id);
  await page.getByRole('button', {name: 'Show transfer'}).click();
  await page.locator('[data-proof-check]').waitFor();
  assert.equal(await page.locator('[data-proof-check]').getAttribute('data-proof-check'), 'ok');
  assert.match(await page.locator('[data-proof-check]').textContent(), /carries no event text/);
  await context.close();
}

// ---------------------------------------------------------------- main

async function main() {
  fs.mkdirSync(screenshotDir, {recursive: true});
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-'));
  const db = path.join(temp, 'concord.db');
  let server = null;
  let browser = null;
  const problems = [];
  try {
    step(`demo database in ${temp}`);
    concordRun(db, 'demo');
    const coordinator = tokenCreate(db, 'e2e-coordinator', 'coordinator');
    const viewer = tokenCreate(db, 'e2e-viewer', 'viewer', 'us');
    server = await serverStart(concord, db);
    step(`concord serves ${server.base}`);
    browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS});
    await signInChecks(browser, server.base, problems);
    await coordinatorChecks(browser, server.base, coordinator, problems);
    await accessibilityChecks(browser, server.base, coordinator, problems);
    await formsChecks(browser, server.base, coordinator, problems);
    await viewerChecks(browser, server.base, viewer, problems);
    await witnessChecks(browser, server.base, coordinator, db, temp, problems);
    assert.deepEqual(problems, [], 'no page error, console error (CSP included) or failed request');
    step(`screenshots in ${screenshotDir}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await serverStop(server);
    fs.rmSync(temp, {recursive: true, force: true});
  }
}

const watchdog = setTimeout(() => {
  console.error(`e2e: FAIL: still running after ${TEST_TIMEOUT_MS} ms`);
  process.exit(1);
}, TEST_TIMEOUT_MS);
watchdog.unref();

main().then(() => {
  console.log('e2e: PASS');
  process.exit(0);
}, (error) => {
  console.error(`e2e: FAIL: ${error.stack ?? error}`);
  process.exit(1);
});
