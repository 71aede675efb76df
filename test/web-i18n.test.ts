/**
 * The web app's texts: every error code of the protocol has a Korean and an English text (so a
 * refusal is never shown as the server's English message in the Korean interface), and the
 * lookup of a code never meets Object.prototype.
 */
import { ERROR_CODES, MoimError } from '@moim/protocol/client';
import { describe, expect, it } from 'vitest';
import { errorCode, errorText, translatedErrorCodes } from '../web-demo/src/i18n.ts';

describe('web app texts', () => {
  it('has a Korean and an English text for every error code', () => {
    const { en, ko } = translatedErrorCodes();
    expect([...en].sort()).toEqual([...ERROR_CODES].sort());
    expect([...ko].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('shows a refusal by its code in the viewer’s language, the message only for unknown codes', () => {
    expect(errorText(new MoimError('BOOKING_CONFLICT', 'place desk-1 is booked'), { lang: 'ko' })).toBe(
      '이 시간에 이미 예약된 자리입니다.',
    );
    expect(errorText(new MoimError('OUTSIDE_HOURS', 'x'), { lang: 'en' })).toMatch(/opening hours/);
    expect(
      errorText(new MoimError('INVALID_PAYLOAD', 'timeZone: unknown time zone'), { detail: true, lang: 'en' }),
    ).toBe('Some values are not valid. (timeZone: unknown time zone)');
    for (const code of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      expect(errorCode({ code })).toBeUndefined();
    expect(errorText(Object.assign(new Error('plain failure'), { code: 'constructor' }))).toBe('plain failure');
  });
});
