// Types of format.js for the TypeScript tests that import it (the browser loads format.js itself; this file is
// never served: the console serves only names of the form name.ext).

/** The number of minor units of a currency (ISO 4217, as ICU knows it): 0 for JPY, 2 for EUR, 3 for KWD. */
export function minorDigits(currency: string): number;
/** An amount in the currency's minor units, formatted with Intl.NumberFormat; '—' when it is not a number. */
export function money(minor: unknown, currency: string | null | undefined, locale?: string): string;
/** A moment with its date and time to the millisecond; '—' when absent. */
export function dateTime(
  iso: string | number | Date | null | undefined,
  options?: { locale?: string; timeZone?: string },
): string;
/** The time since the previous step: "+12 ms", "+1.25 s", "+75 s"; empty for the first. */
export function gap(ms: number | undefined): string;
/** A stock delta with its sign; empty when there is none. */
export function signed(n: unknown): string;
/** The first 8 characters of an id. */
export function shortId(id: string | null | undefined): string;
