// Formats the API's integer amounts for people: in the unit's scale (USD is
// kept in cents, so 123456789 USD reads "1,234,567.89") with thousands
// separators. The API gives amounts in minor units and names the unit; the
// scale of each unit comes from GET /v1/units, read once after sign-in
// (unitsLoad). A unit the server did not list is read as scale 0.

import {api, ApiError} from './api.js';
import {h} from './dom.js';

let unitScales = new Map();

// Reads the units' scales (GET /v1/units); called once a token is accepted.
// A server without the route leaves every unit at scale 0.
export async function unitsLoad(token) {
  try {
    const units = await api('/v1/units', {token});
    unitScales = new Map(units.map((u) => [u.code, u.scale]));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    unitScales = new Map();
  }
}

export function unitScale(unit) {
  return unitScales.get(unit) ?? 0;
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// The digits of an integer amount, a number or a BigInt (web/api.js reads
// integers beyond 2^53 as BigInts), without its sign.
function amountDigits(minor) {
  if (typeof minor === 'bigint') return String(minor < 0n ? -minor : minor);
  return String(Math.abs(Math.trunc(minor)));
}

// a + b for amounts, exact: in BigInt once either is one or the sum leaves
// the doubles' exact range.
export function amountAdd(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum) || !Number.isInteger(a) || !Number.isInteger(b)) return sum;
  }
  const big = BigInt(a) + BigInt(b);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

export function amountSub(a, b) {
  return amountAdd(a, -b);
}

// a / b as a fraction, for shares and percentages (not for amounts).
export function ratio(a, b) {
  return Number(a) / Number(b);
}

// formatAmount(123456789, 'USD') → "1,234,567.89"; formatAmount(4130, 'PERSON') → "4,130".
export function formatAmount(minor, unit, scale = unitScale(unit)) {
  if (minor === null || minor === undefined) return '—';
  const negative = minor < 0;
  const digits = amountDigits(minor).padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? '.' + digits.slice(digits.length - scale) : '';
  return (negative ? '-' : '') + groupThousands(whole) + fraction;
}

// A quantity of stock or deliveries: kilograms from 1,000 on read as tonnes
// with three decimals ("12,345.678 t"), anything else as formatAmount does.
export function formatQuantity(minor, unit) {
  if (unit === 'KG' && typeof minor === 'bigint') { // whole kilograms, rounded half away from 0
    const d = 10n ** BigInt(unitScale(unit));
    const q = minor / d, r = minor % d;
    const kg = 2n * (r < 0n ? -r : r) >= d && d > 1n ? q + (minor < 0n ? -1n : 1n) : q;
    return formatAmount(kg, 'KG', 3) + ' t';
  }
  if (unit === 'KG' && typeof minor === 'number' && Math.abs(minor) >= 1000) {
    return formatAmount(Math.round(minor / 10 ** unitScale(unit)), 'KG', 3) + ' t';
  }
  return formatAmount(minor, unit);
}

// A table cell for a quantity: tonnes for large KG amounts, with the exact
// kilograms in the title attribute.
export function quantityCell(minor, unit) {
  const text = formatQuantity(minor, unit);
  if (text === formatAmount(minor, unit)) return text;
  return h('span', {title: `${formatAmount(minor, unit)} kg`}, text);
}

// The amount in major units as a number, for charts' scales.
export function majorUnits(minor, unit) {
  return Number(minor) / 10 ** unitScale(unit);
}

// A short axis label: 1.2B, 340M, 12k.
export function formatCompact(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return (value / 1e9).toFixed(abs >= 1e10 ? 0 : 1) + 'B';
  if (abs >= 1e6) return (value / 1e6).toFixed(abs >= 1e7 ? 0 : 1) + 'M';
  if (abs >= 1e3) return (value / 1e3).toFixed(abs >= 1e4 ? 0 : 1) + 'k';
  return String(Math.round(value));
}

export function formatPercent(fraction) {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return '—';
  return (fraction * 100).toFixed(1) + '%';
}

export function formatProbability(probability) {
  return probability === undefined || probability === null ? '—' : probability.toFixed(2);
}
