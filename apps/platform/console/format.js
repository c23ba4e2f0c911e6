// How the console writes amounts, times and ids. Plain functions with no DOM: the unit tests import this file in Node.
// `locale` defaults to the browser's (undefined lets Intl pick it); tests pass one, and a time zone, to be exact.

const currencyFormats = new Map();

function currencyFormat(currency, locale) {
  const key = `${locale ?? ''}|${currency}`;
  let format = currencyFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    currencyFormats.set(key, format);
  }
  return format;
}

/** The number of minor units of a currency (ISO 4217, as ICU knows it): 0 for JPY, 2 for EUR, 3 for KWD. */
export function minorDigits(currency) {
  return currencyFormat(currency, 'en').resolvedOptions().maximumFractionDigits;
}

/**
 * An amount held in the currency's minor units (cents, yen, fils) written for people: 1999 EUR → "€19.99",
 * 1000 JPY → "¥1,000", 1234 KWD → "KWD 1.234". An unknown or missing currency shows the raw minor units.
 */
export function money(minor, currency, locale) {
  if (typeof minor !== 'number' || !Number.isFinite(minor)) return '—';
  let format;
  try {
    format = currencyFormat(String(currency ?? ''), locale);
  } catch {
    return currency ? `${minor} ${currency} (minor units)` : `${minor} (minor units)`;
  }
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
}

const dateTimeFormats = new Map();

/**
 * A moment with its date and its time to the millisecond (saga steps are milliseconds apart):
 * "Mar 5, 2025, 14:03:07.123" in English. `options.locale` and `options.timeZone` default to the browser's.
 */
export function dateTime(iso, { locale, timeZone } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const key = `${locale ?? ''}|${timeZone ?? ''}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    // dateStyle/timeStyle cannot be combined with fractionalSecondDigits: the same fields, spelt out.
    format = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      hourCycle: 'h23',
      timeZone,
    });
    dateTimeFormats.set(key, format);
  }
  return format.format(d);
}

/** The time since the previous step: "+12 ms", "+1.25 s", "+75 s"; empty for the first. */
export function gap(ms) {
  if (ms === undefined) return '';
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(2)} s`;
  return `+${Math.round(ms / 1000)} s`;
}

/** A stock delta with its sign ("+2", "-1", "0"); empty when there is none. */
export const signed = (n) => (typeof n === 'number' ? (n > 0 ? `+${n}` : String(n)) : '');

/** The first 8 characters of an id, for tables (the full id goes in the title). */
export const shortId = (id) => (id ? `${id.slice(0, 8)}…` : '—');
