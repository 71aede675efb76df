/** siteClock: instants on a site's wall clock, its calendar days (across DST) and opening hours. */
import type { OpeningHours } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import { localTime, nextDay, startOfDay, withinOpeningHours } from './siteClock.ts';

const NINE_TO_SIX: OpeningHours = [null, ...Array(5).fill({ open: '09:00', close: '18:00' }), null] as OpeningHours;

describe('siteClock', () => {
  it('reads an instant on the site’s clock', () => {
    expect(localTime(Date.parse('2030-01-09T01:00:00Z'), 'Asia/Seoul')).toEqual({
      date: '2030-01-09',
      weekday: 3,
      time: '10:00',
    });
    expect(localTime(Date.parse('2030-01-09T23:30:00Z'), 'UTC')).toEqual({
      date: '2030-01-09',
      weekday: 3,
      time: '23:30',
    });
  });

  it('finds where a calendar day begins, across a DST change', () => {
    expect(new Date(startOfDay('2030-01-09', 'Asia/Seoul')).toISOString()).toBe('2030-01-08T15:00:00.000Z');
    // New York: EST before 10 March 2030, EDT after
    expect(new Date(startOfDay('2030-03-10', 'America/New_York')).toISOString()).toBe('2030-03-10T05:00:00.000Z');
    expect(new Date(startOfDay('2030-03-11', 'America/New_York')).toISOString()).toBe('2030-03-11T04:00:00.000Z');
    expect(nextDay('2030-12-31')).toBe('2031-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });

  it('accepts a range inside one day’s opening hours only', () => {
    const seoul = (h: number, m = 0) => Date.UTC(2030, 0, 9, h - 9, m);
    expect(withinOpeningHours(seoul(9), seoul(18), NINE_TO_SIX, 'Asia/Seoul')).toBe(true);
    expect(withinOpeningHours(seoul(8, 55), seoul(10), NINE_TO_SIX, 'Asia/Seoul')).toBe(false);
    expect(withinOpeningHours(seoul(17), seoul(18, 5), NINE_TO_SIX, 'Asia/Seoul')).toBe(false);
    // the same instants are another wall time in another zone
    expect(withinOpeningHours(seoul(10), seoul(11), NINE_TO_SIX, 'UTC')).toBe(false);
    // Sunday is closed
    expect(withinOpeningHours(Date.UTC(2030, 0, 6, 1), Date.UTC(2030, 0, 6, 2), NINE_TO_SIX, 'Asia/Seoul')).toBe(false);
  });
});
