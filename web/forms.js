// The writers' forms: shared pieces. Every form built here carries
// `data-write`, and the pages build forms only for a token that may write
// (session.canWrite); the API still judges every operation on its own.
//
// A form is a set of labelled fields, each with an error line beside it, and
// a result line under the form. An operation is sent as a one-element
// POST /v1/batch; its result (one per operation, docs/API.md) is shown in the
// result line, or, for an `invalid` result whose message starts with a
// field's name ("amount: …"), next to that field.

import {api} from './api.js';
import {h, section} from './dom.js';

let fieldCount = 0;

// A random id for an operation: prefix + 12 hex digits.
export function randomId(prefix) {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return prefix + [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// "2,500,000.00" → 250000000 (cents); null when the text is not an amount.
// Thousands separators are optional but, when used, must group by three;
// at most two decimals; no sign; at least one cent.
export function parseUsd(text) {
  const value = text.trim().replace(/^\$\s*/, '');
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) return null;
  const whole = match[1].replaceAll(',', '');
  const cents = BigInt(whole) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
  if (cents < 1n || cents > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(cents);
}

// A labelled field: {element, error, wrap}; `name` is the operation's field
// the server names in its messages.
export function field(label, control, name) {
  const id = control.id || `form-field-${++fieldCount}`;
  control.id = id;
  const error = h('span', {class: 'error field-error', id: `${id}-error`, 'aria-live': 'polite',
                           dataset: {errorFor: name}});
  control.setAttribute('aria-describedby', error.id);
  control.dataset.field = name;
  const wrap = h('div', {class: 'form-field'}, h('label', {for: id}, label), control, error);
  return {name, control, error, wrap};
}

export function input(attributes = {}) {
  return h('input', {type: 'text', spellcheck: 'false', autocomplete: 'off', ...attributes});
}

// options: [[value, label], …]
export function select(options, attributes = {}) {
  return h('select', attributes, options.map(([value, label]) => h('option', {value}, label ?? value)));
}

// A write form: {form, result, fields, clear(), fieldError(name, message)}.
// `build()` returns the operation, or null after marking the bad fields.
export function writeForm({name, legend, fields, submitLabel, build, done}) {
  const result = h('p', {class: 'form-result', role: 'status', 'aria-live': 'polite', dataset: {result: ''}});
  const button = h('button', {type: 'submit'}, submitLabel);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const state = {
    result,
    clear() {
      for (const f of fields) {
        f.error.textContent = '';
        f.control.removeAttribute('aria-invalid');
      }
      result.textContent = '';
      result.className = 'form-result';
      delete result.dataset.status;
    },
    fieldError(fieldName, message) {
      const f = byName.get(fieldName);
      if (!f) return false;
      f.error.textContent = message;
      f.control.setAttribute('aria-invalid', 'true');
      return true;
    },
  };
  const form = h('form', {class: 'write-form', 'data-write': '', dataset: {form: name}, novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      state.clear();
      const op = build(state);
      if (!op) return;
      button.disabled = true;
      result.textContent = 'Sending…';
      let answer;
      try {
        answer = await submitOp(op);
      } catch (error) {
        button.disabled = false;
        result.textContent = error.message;
        result.className = 'form-result error';
        result.dataset.status = error.code ?? 'error';
        return;
      }
      button.disabled = false;
      resultShow(state, answer, op);
      if (done) done(answer, op, state);
    }},
    h('fieldset', {}, h('legend', {}, legend), fields.map((f) => f.wrap), h('div', {class: 'form-actions'}, button)),
    result);
  state.form = form;
  return state;
}

// POST /v1/batch with one operation; resolves with its result.
export async function submitOp(op) {
  const results = await api('/v1/batch', {method: 'POST', body: [op]});
  return results[0];
}

const SUCCESS = new Set(['created', 'resolved', 'exists']);

// Shows a batch result: success in the result line, an invalid field next to
// its field, any other rejection under the form.
export function resultShow(state, answer, op) {
  const {result} = state;
  result.dataset.status = answer.status;
  if (SUCCESS.has(answer.status)) {
    result.className = 'form-result ok';
    if (answer.status === 'resolved' || 'posted' in answer) {
      result.textContent = `${answer.status} ${op.id ?? op.name ?? ''}: posted ${answer.posted ?? 0}, voided ${answer.voided ?? 0}`;
    } else {
      result.textContent = `${answer.status}: ${answer.id ?? op.id}`;
    }
    return;
  }
  const message = answer.message ?? answer.status;
  const named = /^([a-z_]+): /.exec(message);
  if (answer.status === 'invalid' && named && state.fieldError(named[1], message)) {
    result.className = 'form-result error';
    result.textContent = `Refused (${answer.status}); see the field above.`;
    return;
  }
  result.className = 'form-result error';
  result.textContent = `${answer.status}: ${message}`;
}

// A card that holds a write form, marked like the form.
export function writeSection(title, ...children) {
  const card = section(title, ...children);
  card.setAttribute('data-write', '');
  return card;
}
