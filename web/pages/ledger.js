// The Ledger explorer. First, every account the token may read
// (GET /v1/accounts, 1,000 a page, following `next`) as a tree by the dots
// of the ids (fund › fund.pool; aid › aid.distributed › …). The top level's
// net posted balances (credits − debits, per unit) come from
// GET /v1/balances?prefix=<node> when the page opens; a node's children's
// when it is first expanded (a leaf's from its own account row). The tree is
// a nested list of buttons with aria-expanded; a leaf's button opens its
// history below. Then the accounts a page at a time with their pending and
// posted balances (GET /v1/accounts?after=…), filtered by an id prefix.
// Editors and viewers see their own party's accounts only (the API decides).
// Below: an account's history (GET /v1/accounts/{id}/transfers, a page at a
// time) and one transfer's detail (GET /v1/transfers/{id}) with the audit
// log's inclusion proof of the event that created it
// (GET /v1/audit/proof/{id}: leaf index, tree size, signed checkpoint note),
// checked in the browser against the verifier key it trusts (web/trust.js):
// the signature, the path from the leaf to the root, and, when the proof
// carries the event, that its text hashes to the leaf and records the transfer.

import {api} from '../api.js';
import {proofVerify} from '../verify.js';
import {trustedKey} from '../trust.js';
import {h, table, figures, sectionWide} from '../dom.js';
import {formatAmount, amountSub} from '../format.js';

export const title = 'Ledger';

const PAGE_ROWS = 50;

const HISTORY_ROWS = 100;

const TREE_PAGE_ROWS = 1000;

// Every account the token may read, following the `next` cursor.
async function accountsAll() {
  const accounts = [];
  let after = '';
  for (;;) {
    const query = new URLSearchParams({limit: String(TREE_PAGE_ROWS)});
    if (after) query.set('after', after);
    const page = await api(`/v1/accounts?${query}`);
    accounts.push(...(page.accounts ?? []));
    if (!page.next) return accounts;
    after = page.next;
  }
}

// The accounts as a tree: {id, label, account, children: Map}.
function treeBuild(accounts) {
  const root = {id: '', children: new Map()};
  for (const account of accounts) {
    let node = root;
    const parts = account.id.split('.');
    parts.forEach((part, i) => {
      const id = parts.slice(0, i + 1).join('.');
      if (!node.children.has(part)) node.children.set(part, {id, label: part, account: null, children: new Map()});
      node = node.children.get(part);
    });
    node.account = account;
  }
  return root;
}

// "785,400,000.00 USD; 12 KG": net posted balances per unit.
function netText(rows) {
  if (rows.length === 0) return '—';
  return rows.map((r) => `${formatAmount(amountSub(r.credits_posted, r.debits_posted), r.unit)} ${r.unit}`).join('; ');
}

// A node's net posted balance into `target`: a leaf's from its account row,
// any other node's from GET /v1/balances?prefix=<node>.
async function balanceFill(node, target) {
  if (node.children.size === 0 && node.account) {
    target.textContent = netText([node.account]);
    return;
  }
  try {
    const rows = await api(`/v1/balances?prefix=${encodeURIComponent(node.id)}`);
    target.textContent = netText(rows);
  } catch (error) {
    target.textContent = `(${error.message})`;
  }
}

// The tree's list of nodes; `openHistory(id)` shows an account's history.
function treeList(nodes, openHistory, depth) {
  const list = h('ul', {class: 'tree', role: depth === 0 ? null : 'group'});
  const items = [...nodes].sort((a, b) => a.label.localeCompare(b.label));
  const fills = [];
  for (const node of items) {
    const balance = h('span', {class: 'tree-balance', dataset: {balance: node.id}}, '…');
    const leaf = node.children.size === 0;
    const label = h('span', {class: 'tree-label'}, node.label);
    let button;
    const item = h('li', {dataset: {node: node.id}});
    if (leaf) {
      button = h('button', {type: 'button', class: 'tree-node leaf', title: `History of ${node.id}`,
        onclick: () => openHistory(node.id)}, label, ' ', balance);
      item.append(button);
    } else {
      let sub = null;
      button = h('button', {type: 'button', class: 'tree-node', 'aria-expanded': 'false',
        onclick: async () => {
          const open = button.getAttribute('aria-expanded') === 'true';
          if (open) {
            button.setAttribute('aria-expanded', 'false');
            sub.hidden = true;
            return;
          }
          button.setAttribute('aria-expanded', 'true');
          if (!sub) {
            const built = treeList(node.children.values(), openHistory, depth + 1);
            sub = built.list;
            item.append(sub);
            sub.setAttribute('aria-busy', 'true');
            await built.loaded;
            sub.removeAttribute('aria-busy');
          }
          // Closed again while the balances were read: it stays closed.
          sub.hidden = button.getAttribute('aria-expanded') !== 'true';
        }}, label, ' ', balance);
      item.append(button);
      if (node.account) {
        item.append(' ', h('button', {type: 'button', class: 'link', onclick: () => openHistory(node.id)},
          `history of ${node.id}`));
      }
    }
    fills.push(balanceFill(node, balance));
    list.append(item);
  }
  return {list, loaded: Promise.all(fills)};
}

// What this browser found of a transfer's proof, as one line.
// The proof must be of the transfer asked for; for a role that reads the
// log (readsLog), it must carry the event's text, which must record it.
async function proofCheckLine(proof, id, readsLog) {
  try {
    const {verifier, text} = await trustedKey();
    const checked = await proofVerify(proof, verifier, {transferId: id, event: readsLog});
    const where = `event ${proof.leaf_index + 1} of the log of ${proof.tree_size} events signed by ${verifier.name}`;
    return h('p', {class: 'check', dataset: {proofCheck: 'ok'}, title: `verifier key ${text}`},
      checked.event
        ? `Checked in this browser: transfer ${proof.transfer_id} was made by ${where}.`
        : `Checked in this browser: ${where} is in the log. The proof carries no event text (your role does not read the log), so it does not show what the event holds.`);
  } catch (error) {
    // Whatever the server sent, a malformed answer included, is a failed check.
    if (!(error instanceof Error)) throw error;
    return h('p', {class: 'error', role: 'alert', dataset: {proofCheck: 'failed'}},
      `The proof does not hold: ${error.message}.`);
  }
}

// The detail of one transfer and its audit proof, into `holder`.
async function transferShow(holder, id, readsLog) {
  holder.replaceChildren(h('p', {class: 'note'}, 'Loading…'));
  let transfer;
  try {
    transfer = await api(`/v1/transfers/${encodeURIComponent(id)}`);
  } catch (error) {
    holder.replaceChildren(h('p', {class: 'error', role: 'alert'}, error.message));
    return;
  }
  const items = [
    {label: 'Transfer', value: transfer.id, key: 'transfer.id'},
    {label: 'State', value: transfer.state, key: 'transfer.state'},
    {label: 'Amount', value: formatAmount(transfer.amount, transfer.unit), unit: transfer.unit, key: 'transfer.amount'},
    {label: 'Debit', value: transfer.debit}, {label: 'Credit', value: transfer.credit},
    {label: 'Kind', value: transfer.kind ?? '—'}, {label: 'Condition', value: transfer.if ?? '—'},
    {label: 'Date', value: transfer.date ?? '—'},
  ];
  if (transfer.pending_id) items.push({label: 'Resolves', value: transfer.pending_id});
  if (transfer.memo) items.push({label: 'Memo', value: transfer.memo});
  const parts = [h('div', {dataset: {transfer: transfer.id}}, figures(items))];
  try {
    const proof = await api(`/v1/audit/proof/${encodeURIComponent(id)}`);
    parts.push(h('h4', {}, 'Audit proof'),
      figures([{label: 'Leaf index', value: String(proof.leaf_index), key: 'proof.leaf_index'},
               {label: 'Tree size', value: String(proof.tree_size), key: 'proof.tree_size'},
               {label: 'Hashes on the path', value: String((proof.hashes ?? []).length)}]),
      await proofCheckLine(proof, id, readsLog),
      h('pre', {class: 'checkpoint', dataset: {proofCheckpoint: ''}}, proof.checkpoint));
  } catch (error) {
    parts.push(h('p', {class: 'note'}, `No audit proof: ${error.message}`));
  }
  holder.replaceChildren(...parts);
}

function historyPanel(detail, readsLog) {
  const holder = h('div', {class: 'history'});
  const accountInput = h('input', {id: 'history-account', type: 'search', placeholder: 'e.g. fund.pool', spellcheck: 'false'});
  const transferInput = h('input', {id: 'transfer-id', type: 'search', placeholder: 'a transfer id', spellcheck: 'false'});
  let cursors = [''];

  async function show(after) {
    const account = accountInput.value.trim();
    if (!account) return;
    const query = new URLSearchParams({limit: String(HISTORY_ROWS)});
    if (after) query.set('after', after);
    holder.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = await api(`/v1/accounts/${encodeURIComponent(account)}/transfers?${query}`);
    } catch (error) {
      holder.replaceChildren(h('p', {class: 'error', role: 'alert'}, error.message));
      holder.removeAttribute('aria-busy');
      return;
    }
    const buttons = h('p', {},
      cursors.length > 1 ? h('button', {type: 'button', onclick: () => { cursors.pop(); show(cursors[cursors.length - 1]); }}, 'Previous page') : null,
      ' ',
      page.next ? h('button', {type: 'button', onclick: () => { cursors.push(page.next); show(page.next); }}, 'Next page') : null);
    holder.replaceChildren(table(`History of ${account}`, [
      {label: 'Transfer', value: (t) => h('button', {type: 'button', class: 'link',
        onclick: () => { transferInput.value = t.id; transferShow(detail, t.id, readsLog); }}, t.id)},
      {label: 'Kind', value: (t) => t.kind ?? (t.pending_id ? `resolves ${t.pending_id}` : '')},
      {label: 'Debit', value: (t) => t.debit},
      {label: 'Credit', value: (t) => t.credit},
      {label: 'Amount', num: true, key: 'amount', value: (t) => formatAmount(t.amount, t.unit)},
      {label: 'Unit', value: (t) => t.unit},
      {label: 'Condition', value: (t) => t.if ?? ''},
      {label: 'State', key: 'state', value: (t) => t.state},
      {label: 'Date', value: (t) => t.date ?? ''},
    ], page.transfers, {rowKey: (t) => t.id}), buttons);
    holder.dataset.account = account;
    holder.removeAttribute('aria-busy');
  }

  const historyForm = h('form', {dataset: {form: 'history'}, onsubmit: (event) => { event.preventDefault(); cursors = ['']; show(''); }},
    h('label', {for: 'history-account'}, 'Account id '), accountInput, ' ',
    h('button', {type: 'submit'}, 'Show history'));
  const transferForm = h('form', {dataset: {form: 'transfer'}, onsubmit: (event) => {
    event.preventDefault();
    if (transferInput.value.trim()) transferShow(detail, transferInput.value.trim(), readsLog);
  }}, h('label', {for: 'transfer-id'}, 'Transfer id '), transferInput, ' ', h('button', {type: 'submit'}, 'Show transfer'));
  // Shows an account's history from elsewhere on the page (the tree).
  function open(account) {
    accountInput.value = account;
    cursors = [''];
    show('').then(() => historyForm.scrollIntoView({block: 'start'}));
  }
  return {historyForm, transferForm, holder, open};
}

export async function render(session) {
  const holder = h('div');
  const prefixInput = h('input', {id: 'ledger-prefix', type: 'search', placeholder: 'e.g. donor.', spellcheck: 'false'});
  let cursors = ['']; // the `after` of each page shown so far

  async function show(after) {
    const query = new URLSearchParams({limit: String(PAGE_ROWS)});
    if (after) query.set('after', after);
    if (prefixInput.value) query.set('prefix', prefixInput.value);
    const page = await api(`/v1/accounts?${query}`);
    const amount = (key) => (a) => formatAmount(a[key], a.unit);
    const buttons = h('p', {},
      cursors.length > 1 ? h('button', {type: 'button', onclick: () => { cursors.pop(); show(cursors[cursors.length - 1]); }}, 'Previous page') : null,
      ' ',
      page.next ? h('button', {type: 'button', onclick: () => { cursors.push(page.next); show(page.next); }}, 'Next page') : null);
    holder.replaceChildren(table('Accounts', [
      {label: 'Account', value: (a) => a.id},
      {label: 'Name', value: (a) => a.name ?? ''},
      {label: 'Unit', value: (a) => a.unit},
      {label: 'Debits pending', num: true, value: amount('debits_pending')},
      {label: 'Debits posted', num: true, value: amount('debits_posted')},
      {label: 'Credits pending', num: true, value: amount('credits_pending')},
      {label: 'Credits posted', num: true, value: amount('credits_posted')},
    ], page.accounts, {rowKey: (a) => a.id}), buttons);
  }

  const form = h('form', {onsubmit: (event) => { event.preventDefault(); cursors = ['']; show(''); }},
    h('label', {for: 'ledger-prefix'}, 'Account id prefix '), prefixInput, ' ',
    h('button', {type: 'submit'}, 'Show'));
  await show('');
  const detail = h('div', {class: 'transfer-detail', 'aria-live': 'polite'});
  const history = historyPanel(detail, Boolean(session?.canAudit));
  const tree = treeList(treeBuild(await accountsAll()).children.values(), history.open, 0);
  await tree.loaded;
  return h('div', {class: 'cards'},
    sectionWide('Accounts by prefix',
      h('p', {class: 'note'}, 'Net posted balance (credits − debits) per unit. Expand a prefix to see its accounts; choose an account to see its history.'),
      tree.list),
    sectionWide('Accounts', form, holder),
    sectionWide('Account history', history.historyForm, history.holder),
    sectionWide('Transfer', history.transferForm, detail));
}
