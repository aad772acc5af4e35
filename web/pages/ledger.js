// The Ledger explorer: accounts a page at a time with their pending and
// posted balances (GET /v1/accounts?after=…), filtered by an id prefix.
// Editors and viewers see their own party's accounts only (the API decides).

import {api} from '../api.js';
import {h, table, sectionWide} from '../dom.js';
import {formatAmount} from '../format.js';

export const title = 'Ledger';

const PAGE_ROWS = 50;

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
  return h('div', {class: 'cards'}, sectionWide('Accounts', form, holder));
}
