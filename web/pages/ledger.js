// The Ledger explorer: accounts a page at a time with their pending and
// posted balances (GET /v1/accounts?after=…), filtered by an id prefix.
// Editors and viewers see their own party's accounts only (the API decides).
// Below: an account's history (GET /v1/accounts/{id}/transfers, a page at a
// time) and one transfer's detail (GET /v1/transfers/{id}) with the audit
// log's inclusion proof of the event that created it
// (GET /v1/audit/proof/{id}: leaf index, tree size, signed checkpoint note).

import {api} from '../api.js';
import {h, table, figures, sectionWide} from '../dom.js';
import {formatAmount} from '../format.js';

export const title = 'Ledger';

const PAGE_ROWS = 50;

const HISTORY_ROWS = 100;

// The detail of one transfer and its audit proof, into `holder`.
async function transferShow(holder, id) {
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
      h('pre', {class: 'checkpoint', dataset: {proofCheckpoint: ''}}, proof.checkpoint));
  } catch (error) {
    parts.push(h('p', {class: 'note'}, `No audit proof: ${error.message}`));
  }
  holder.replaceChildren(...parts);
}

function historyPanel(detail) {
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
        onclick: () => { transferInput.value = t.id; transferShow(detail, t.id); }}, t.id)},
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
    if (transferInput.value.trim()) transferShow(detail, transferInput.value.trim());
  }}, h('label', {for: 'transfer-id'}, 'Transfer id '), transferInput, ' ', h('button', {type: 'submit'}, 'Show transfer'));
  return {historyForm, transferForm, holder};
}

export async function render() {
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
  const history = historyPanel(detail);
  return h('div', {class: 'cards'}, sectionWide('Accounts', form, holder),
    sectionWide('Account history', history.historyForm, history.holder),
    sectionWide('Transfer', history.transferForm, detail));
}
