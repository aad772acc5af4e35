// JSON as the API writes it. Amounts are 64-bit integers; a double holds
// them exactly only up to 2^53, so an integer beyond that is read from its
// own digits into a BigInt and a figure on the page is never rounded
// (web/format.js formats and adds both kinds).

function fromSource(key, value, context) {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) &&
      context && /^-?[0-9]+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

// Whether this browser gives a reviver the source text (it then reads such
// integers exactly); the page says so when it does not.
export const exactIntegers = (() => {
  let source = false;
  JSON.parse('1', (key, value, context) => { source = typeof context?.source === 'string'; return value; });
  return source;
})();

export function jsonParse(text) {
  return JSON.parse(text, fromSource);
}

// The same value as text, BigInts as their digits: to compare parsed values.
export function jsonText(value) {
  return JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? v.toString() : v));
}
