// Formats the API's integer amounts for people: in the unit's scale (USD is
// kept in cents, so 123456789 USD reads "1,234,567.89") with thousands
// separators. The API gives amounts in minor units and names the unit; the
// scales of the mission's units are below (any other unit is read as scale 0).

const UNIT_SCALES = {USD: 2, EUR: 2, GBP: 2, CHF: 2};

export function unitScale(unit) {
  return UNIT_SCALES[unit] ?? 0;
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// formatAmount(123456789, 'USD') → "1,234,567.89"; formatAmount(4130, 'PERSON') → "4,130".
export function formatAmount(minor, unit) {
  if (minor === null || minor === undefined) return '—';
  const scale = unitScale(unit);
  const negative = minor < 0;
  const digits = String(Math.abs(Math.trunc(minor))).padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? '.' + digits.slice(digits.length - scale) : '';
  return (negative ? '-' : '') + groupThousands(whole) + fraction;
}

// The amount in major units as a number, for charts' scales.
export function majorUnits(minor, unit) {
  return minor / 10 ** unitScale(unit);
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
