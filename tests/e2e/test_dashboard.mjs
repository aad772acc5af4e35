// The dashboard's end-to-end test: a real `concord serve` over the demo
// mission, driven by Debian's chromium through playwright-core (installed in
// web/node_modules by scripts/web-deps). It checks sign-in (a missing and a
// bad token), that the Overview shows the API's funding totals and force
// figures, that the Conditions page shows what POST /v1/scenario answers,
// that a viewer is offered nothing that writes, and that no page breaks the
// Content Security Policy. It saves a screenshot of every page.
//
// usage: node tests/e2e/test_dashboard.mjs CONCORD_BINARY [SCREENSHOT_DIR]
// (SCREENSHOT_DIR defaults to build/screenshots; a relative one is taken
// from the repository's root). Exits 0 when every check passes.

import {spawn, execFileSync} from 'node:child_process';
import {createRequire} from 'node:module';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER_START_MS_MAX = 30_000;
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

function concordRun(db, ...args) {
  return execFileSync(concord, ['--db', db, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

function tokenCreate(db, user, role, party) {
  const args = ['token', 'create', '--user', user, '--role', role, '--json'];
  if (party) args.push('--party', party);
  return JSON.parse(concordRun(db, ...args)).token;
}

// Starts `concord serve` on a free port; resolves with {process, base}.
function serverStart(db) {
  const server = spawn(concord, ['--db', db, 'serve', '--listen', '127.0.0.1:0'], {stdio: ['ignore', 'ignore', 'pipe']});
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${SERVER_START_MS_MAX} ms: ${seen}`)),
                             SERVER_START_MS_MAX);
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      const match = /concord: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve({process: server, base: match[1]});
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`concord serve exited (${code}) before listening: ${seen}`));
    });
  });
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

async function navigate(page, route) {
  await page.locator(`nav a[data-route="${route}"]`).click();
  await pageReady(page, route);
  assert.equal(await page.locator(`nav a[data-route="${route}"]`).getAttribute('aria-current'), 'page');
  assert.equal(await page.locator('nav a[aria-current="page"]').count(), 1);
}

// ---------------------------------------------------------------- the steps

async function signInChecks(browser, base, problems) {
  step('(a) / asks for a token; a bad token is refused');
  const {context, page} = await pageOpen(browser, problems);
  await page.goto(base + '/');
  const input = page.getByLabel('Access token');
  await input.waitFor({state: 'visible'});
  assert.equal(await page.locator('#shell').isVisible(), false);
  await screenshot(page, 'sign-in');
  await input.fill('cct_0000000000000000_not-a-real-token');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('#token-error', {hasText: 'That token is not valid'}).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('concord.token')), null);
  await screenshot(page, 'sign-in-refused');
  await context.close();
}

async function coordinatorChecks(browser, base, token, problems) {
  const funding = await apiGet(base, token, '/v1/reports/funding');
  const force = await apiGet(base, token, '/v1/reports/force');
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
  for (const key of ['required', 'pledged', 'committed', 'disbursed']) {
    assert.equal(await page.locator(`[data-figure="funding.${key}"]`).textContent(), usd(funding.totals[key]), key);
  }
  assert.equal(await page.locator('[data-figure="force.deployed"]').textContent(), count(force.stages.deployed));
  assert.ok(await page.locator('.chart canvas').count() >= 1, 'the force chart is drawn (uPlot loaded)');
  await screenshot(page, 'overview');

  step('Funding: the by-donor table and chart');
  await navigate(page, 'funding');
  assert.equal(await page.locator('tbody tr[data-row]').count() >= funding.by_donor.length, true);
  for (const donor of funding.by_donor) {
    await page.locator(`tr[data-row="${donor.donor}"]`, {hasText: usd(donor.pledged)}).first().waitFor();
  }
  assert.ok(await page.locator('.chart canvas').count() >= 1, 'the by-donor chart is drawn');
  await screenshot(page, 'funding');

  step('(c) Conditions: two_state met changes the pool\'s low–high range');
  await navigate(page, 'conditions');
  const poolRange = page.locator('tr[data-row="pool"] td[data-col="range"]');
  assert.equal(await poolRange.textContent(), range(before));
  await page.locator('fieldset[data-condition="two_state"]').getByLabel('met').check();
  await page.locator('.scenario[data-assume=\'{"two_state":"met"}\']').waitFor();
  assert.equal(await poolRange.textContent(), range(after));
  await screenshot(page, 'conditions');

  step('Force, Aid, Ledger and Audit');
  for (const route of ['force', 'aid', 'ledger']) {
    await navigate(page, route);
    assert.ok(await page.locator('main table tbody tr').count() > 0, `${route} lists rows`);
    await screenshot(page, route);
  }
  await navigate(page, 'audit');
  assert.equal(await page.locator('pre[data-checkpoint]').textContent(), checkpoint.checkpoint);
  assert.ok(await page.locator('main table tbody tr').count() > 0, 'a coordinator sees the events');
  await screenshot(page, 'audit');

  step('the navigation works from the keyboard');
  await page.locator('nav a[data-route="overview"]').focus();
  await page.keyboard.press('Enter');
  await pageReady(page, 'overview');

  step('a tablet-sized window');
  await page.setViewportSize({width: 820, height: 1180});
  await page.waitForTimeout(300); // the charts follow their cards' new width
  await screenshot(page, 'overview-tablet');

  step('sign out');
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('Access token').waitFor({state: 'visible'});
  assert.equal(await page.evaluate(() => sessionStorage.getItem('concord.token')), null);
  await context.close();
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
  }
  await page.locator('pre[data-checkpoint]').waitFor();
  await screenshot(page, 'viewer-audit');
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
    server = await serverStart(db);
    step(`concord serves ${server.base}`);
    browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS});
    await signInChecks(browser, server.base, problems);
    await coordinatorChecks(browser, server.base, coordinator, problems);
    await viewerChecks(browser, server.base, viewer, problems);
    assert.deepEqual(problems, [], 'no page error, console error (CSP included) or failed request');
    step(`screenshots in ${screenshotDir}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      const exited = new Promise((resolve) => server.process.once('exit', resolve));
      server.process.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (server.process.exitCode === null) server.process.kill('SIGKILL');
    }
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
