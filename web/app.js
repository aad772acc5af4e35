// The dashboard's entry point: signing in with an access token, finding out
// what the token's role may do, the navigation, and the hash router that
// renders one page module (web/pages/) at a time.
//
// Signing in: /?token=T stores T in sessionStorage and removes it from the
// address bar; otherwise the sign-in form asks for one. The token is checked
// and its role read with GET /v1/me (401: not valid), at the same time as
// the units' scales (GET /v1/units): two requests, then the page. Pages that
// write are marked `write: true` below and are left out of the navigation,
// and not routed, for a token whose role may not write (`may.write`).

import {api, ApiError, tokenGet, tokenSet, tokenClear} from './api.js';
import {h} from './dom.js';
import {exactIntegers} from './json.js';
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

const ROLE_NAMES = {admin: 'administrator', coordinator: 'coordinator', editor: 'editor',
                    viewer: 'viewer', auditor: 'auditor'};

// Checks the token and reads who it is (GET /v1/me) and the units' scales,
// both at once; throws ApiError(401) for a bad token. Both answers are
// awaited even when one fails: the sign-in form then shows its message with
// no request still out, and /v1/me's failure is the one reported.
async function sessionOpen(token) {
  const [asked, units] = await Promise.allSettled([api('/v1/me', {token}), unitsLoad(token)]);
  if (asked.status === 'rejected') throw asked.reason;
  if (units.status === 'rejected') throw units.reason;
  const me = asked.value;
  const role = ROLE_NAMES[me.role] ?? me.role;
  return {
    canAudit: Boolean(me.may?.read_log), canWrite: Boolean(me.may?.write),
    user: me.user, party: me.party ?? null,
    role: me.party ? `${role} (${me.party})` : role,
  };
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
  // "#funding?source=fts": the page, then what it is asked to show.
  const [wanted, query] = (location.hash.replace(/^#\/?/, '') || 'overview').split('?', 2);
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
    content = await entry.page.render(session, new URLSearchParams(query ?? ''));
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
  // A browser that hides a number's source text from JSON.parse rounds
  // amounts beyond 2^53: rare in practice, but never silently.
  elements.who.textContent = `Signed in as ${session.role}` +
    (exactIntegers ? '' : ' · this browser rounds amounts beyond 9,007,199,254,740,991 minor units');
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
