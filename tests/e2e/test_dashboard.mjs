// The dashboard's end-to-end test: a real `concord serve` over the demo
// mission, driven by Debian's chromium through playwright-core (installed in
// web/node_modules by scripts/web-deps). It checks sign-in (a missing and a
// bad token), that the Overview shows the API's funding totals and force
// figures, that the Conditions page shows what POST /v1/scenario answers,
// that a writer's forms record a pledge, refuse a bad amount and resolve a
// condition, that the Force and Aid pages draw their charts, that the Ledger
// page's tree of accounts shows a prefix's net posted balance and opens an
// account's history, that the Ledger page shows an account's history and a
// transfer's audit proof, that the Audit page lists the recent events for a
// coordinator and says a viewer does not read them, that a viewer is offered
// nothing that writes, and that no page breaks the Content Security Policy. It saves a screenshot of every page and
// form.
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
function percent(p) {
  return `${(p * 100).toFixed(1)}%`;
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
  await forecastBarsCheck(page, await apiGet(base, token, '/v1/forecast'));
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
    if (route !== 'ledger') {
      assert.ok(await page.locator('main .chart canvas').count() >= 1, `${route} draws a chart`);
    }
    await screenshot(page, route);
  }

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
  assert.ok(await page.locator('main table tbody tr').count() > 0, 'a coordinator sees the events');
  const latestSeq = Number(await page.locator('main table tbody tr').first().locator('td[data-col="seq"]').textContent());
  const shownCheckpoint = await apiGet(base, token, '/v1/audit/checkpoint');
  assert.ok(latestSeq >= 1 && latestSeq <= shownCheckpoint.size, `the latest event shown (${latestSeq})`);
  assert.equal(await page.locator('main [data-coverage="covers"]').count(), 1, 'the checkpoint covers the events shown');
  assert.match(await page.locator('main [data-coverage]').textContent(), /covers every event shown/);
  assert.equal(await page.locator('[data-events-refused]').count(), 0);
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
  assert.equal(await page.locator('[data-events-refused]').textContent(), 'Your role does not read the event log.');
  assert.equal(await page.locator('main table').count(), 0, 'a viewer sees no events');
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
    await formsChecks(browser, server.base, coordinator, problems);
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
