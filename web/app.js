// The dashboard's entry point: signing in with an access token, finding out
// what the token's role may do, the navigation, and the hash router that
// renders one page module (web/pages/) at a time.
//
// Signing in: /?token=T stores T in sessionStorage and removes it from the
// address bar; otherwise the sign-in form asks for one. A token is checked
// with GET /v1/parties (401: not valid). The API has no "who am I" route, so
// the role is probed: GET /v1/audit/events?limit=1 answers 200 to
// administrators, coordinators and auditors (403 to editors and viewers),
// and POST /v1/batch with [] (which commits nothing) answers 200 to those
// who may write (403 to readers). Pages that write are marked `write: true`
// below and are left out of the navigation, and not routed, for readers.
// The units' scales (GET /v1/units) are read once, with the probes.

import {api, apiStatus, ApiError, tokenGet, tokenSet, tokenClear} from './api.js';
import {h} from './dom.js';
import {unitsLoad} from './format.js';
import * as overview from './pages/overview.js';
import * as funding from './pages/funding.js';
import * as conditions from './pages/conditions.js';
import * as force from './pages/force.js';
import * as aid from './pages/aid.js';
import * as ledger from './pages/ledger.js';
import * as audit from './pages/audit.js';

// Every page: its hash route, its module, and whether it writes.
const PAGES = [
  {route: 'overview', page: overview, write: false},
  {route: 'funding', page: funding, write: false},
  {route: 'conditions', page: conditions, write: false},
  {route: 'force', page: force, write: false},
  {route: 'aid', page: aid, write: false},
  {route: 'ledger', page: ledger, write: false},
  {route: 'audit', page: audit, write: false},
];

const elements = {
  signIn: document.getElementById('sign-in'),
  form: document.getElementById('sign-in-form'),
  input: document.getElementById('token-input'),
  error: document.getElementById('token-error'),
  shell: document.getElementById('shell'),
  nav: document.getElementById('nav'),
  main: document.getElementById('main'),
  who: document.getElementById('who'),
  signOut: document.getElementById('sign-out'),
};

// What the signed-in token may do; null while signed out.
let session = null;
let rendering = 0; // a newer route change wins over a slower page

function roleName(canAudit, canWrite) {
  if (canAudit) return canWrite ? 'administrator or coordinator' : 'auditor';
  return canWrite ? 'editor' : 'viewer';
}

// Checks the token and probes its role; throws ApiError(401) for a bad token.
async function sessionOpen(token) {
  await api('/v1/parties', {token});
  const [auditStatus, writeStatus] = await Promise.all([
    apiStatus('/v1/audit/events?limit=1', {token}),
    apiStatus('/v1/batch', {method: 'POST', body: [], token}),
    unitsLoad(token),
  ]);
  const canAudit = auditStatus === 200;
  const canWrite = writeStatus === 200;
  return {canAudit, canWrite, role: roleName(canAudit, canWrite)};
}

function pagesAllowed() {
  return PAGES.filter((entry) => !entry.write || (session && session.canWrite));
}

function signInShow(message) {
  session = null;
  elements.shell.hidden = true;
  elements.who.hidden = true;
  elements.signOut.hidden = true;
  elements.signIn.hidden = false;
  elements.error.textContent = message ?? '';
  elements.input.setAttribute('aria-invalid', message ? 'true' : 'false');
  document.body.dataset.state = 'signed-out';
  elements.input.focus();
}

function navBuild() {
  elements.nav.replaceChildren(...pagesAllowed().map((entry) =>
    h('li', {}, h('a', {href: `#/${entry.route}`, dataset: {route: entry.route},
                        ...(entry.write ? {'data-write': ''} : {})}, entry.page.title))));
}

async function routeRender() {
  if (!session) return;
  const wanted = location.hash.replace(/^#\/?/, '') || 'overview';
  const entry = pagesAllowed().find((e) => e.route === wanted) ?? pagesAllowed()[0];
  for (const link of elements.nav.querySelectorAll('a')) {
    if (link.dataset.route === entry.route) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const ticket = ++rendering;
  document.title = `${entry.page.title} — concord`;
  elements.main.dataset.page = entry.route;
  elements.main.dataset.state = 'loading';
  elements.main.replaceChildren(h('h2', {}, entry.page.title), h('p', {class: 'note'}, 'Loading…'));
  let content;
  try {
    content = await entry.page.render(session);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      tokenClear();
      signInShow('That token is no longer valid');
      return;
    }
    content = h('p', {class: 'error', role: 'alert'}, error.message);
  }
  if (ticket !== rendering) return;
  elements.main.replaceChildren(h('h2', {}, entry.page.title), content);
  elements.main.dataset.state = 'ready';
}

async function signIn(token) {
  try {
    session = await sessionOpen(token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      tokenClear();
      signInShow('That token is not valid');
      return;
    }
    signInShow(`The server did not answer: ${error.message}`);
    return;
  }
  tokenSet(token);
  elements.signIn.hidden = true;
  elements.input.value = '';
  elements.who.textContent = `Signed in as ${session.role}`;
  elements.who.hidden = false;
  elements.signOut.hidden = false;
  elements.shell.hidden = false;
  document.body.dataset.state = 'signed-in';
  document.body.dataset.canWrite = String(session.canWrite);
  navBuild();
  await routeRender();
}

function start() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    // The token must not linger in the address bar, history or bookmarks.
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    if (fromUrl) tokenSet(fromUrl);
  }
  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = elements.input.value.trim();
    if (!token) {
      signInShow('Enter an access token');
      return;
    }
    signIn(token);
  });
  elements.signOut.addEventListener('click', () => {
    tokenClear();
    elements.nav.replaceChildren();
    elements.main.replaceChildren();
    signInShow();
  });
  window.addEventListener('hashchange', () => {
    routeRender().then(() => elements.main.focus());
  });
  const token = tokenGet();
  if (token) signIn(token);
  else signInShow();
}

start();
