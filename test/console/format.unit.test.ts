/**
 * The console's formatting (apps/platform/console/format.js, plain JS with no DOM): amounts in each currency's own
 * minor units through Intl.NumberFormat, and times that carry their date.
 */
import { describe, expect, it } from 'vitest';
import { dateTime, gap, minorDigits, money, shortId, signed } from '../../apps/platform/console/format.js';

describe('money', () => {
  it('knows each currency’s minor units', () => {
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('KWD')).toBe(3);
  });

  it('divides by the currency’s own minor units, not always by 100', () => {
    expect(money(1000, 'JPY', 'en-US')).toBe('¥1,000');
    expect(money(1999, 'EUR', 'en-US')).toBe('€19.99');
    expect(money(1999, 'USD', 'en-US')).toBe('$19.99');
    // The symbol or code of the dinar depends on the ICU data; the three decimals do not.
    const kwd = money(1234, 'KWD', 'en-US');
    expect(kwd).toContain('1.234');
    expect(kwd).toMatch(/KWD|KD|د\.ك/);
  });

  it('follows the locale, keeps the sign and large amounts exact', () => {
    expect(money(1999, 'EUR', 'de-DE').replace(/\s/g, ' ')).toBe('19,99 €');
    expect(money(-250, 'EUR', 'en-US')).toBe('-€2.50');
    expect(money(0, 'JPY', 'en-US')).toBe('¥0');
    expect(money(12_345_678_901, 'EUR', 'en-US')).toBe('€123,456,789.01');
  });

  it('shows a dash for no amount and the raw minor units for a currency it does not know', () => {
    expect(money(undefined, 'EUR')).toBe('—');
    expect(money(null, 'EUR')).toBe('—');
    expect(money(Number.NaN, 'EUR')).toBe('—');
    expect(money(500, 'not-a-currency')).toBe('500 not-a-currency (minor units)');
    expect(money(500, undefined)).toBe('500 (minor units)');
  });
});

describe('dateTime', () => {
  it('shows the day as well as the time, to the millisecond', () => {
    const text = dateTime('2025-03-05T14:03:07.123Z', { locale: 'en-US', timeZone: 'UTC' });
    expect(text).toContain('Mar 5, 2025');
    expect(text).toContain('14:03:07.123');
  });

  it('writes the day in the time zone it is given', () => {
    // 23:30 UTC on 5 March is already 6 March in Tokyo.
    expect(dateTime('2025-03-05T23:30:00.000Z', { locale: 'en-US', timeZone: 'Asia/Tokyo' })).toContain('Mar 6, 2025');
    expect(dateTime('2025-03-05T23:30:00.000Z', { locale: 'en-GB', timeZone: 'UTC' })).toContain('5 Mar 2025');
  });

  it('shows a dash for no time and the raw value for one it cannot read', () => {
    expect(dateTime(undefined)).toBe('—');
    expect(dateTime('')).toBe('—');
    expect(dateTime('yesterday')).toBe('yesterday');
  });
});

describe('small formats', () => {
  it('gap, signed and shortId', () => {
    expect(gap(undefined)).toBe('');
    expect(gap(12)).toBe('+12 ms');
    expect(gap(1250)).toBe('+1.25 s');
    expect(gap(75_000)).toBe('+75 s');
    expect(signed(2)).toBe('+2');
    expect(signed(-1)).toBe('-1');
    expect(signed(0)).toBe('0');
    expect(signed(undefined)).toBe('');
    expect(shortId('4bf92f35-77b3-4da6-a3ce-929d0e0e4736')).toBe('4bf92f35…');
    expect(shortId(undefined)).toBe('—');
  });
});
