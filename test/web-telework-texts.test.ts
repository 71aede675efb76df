/**
 * The telework pages' texts: every status, type, priority category and check-in source the
 * server can answer has a Korean and an English text (the pages look them up by building the key
 * from the value, which the type checker cannot follow), and the Korean table has exactly the
 * English table's keys.
 */
import * as protocol from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import { teleworkEn, teleworkKo } from '../web-demo/src/teleworkTexts.ts';

const en: Record<string, string> = teleworkEn;
const ko: Record<string, string> = teleworkKo;

describe('telework page texts', () => {
  it('has both languages for every value a page builds a key from', () => {
    const keys = [
      ...protocol.REQUEST_DAY_STATUSES.map((s) => `st_day_${s}`),
      ...protocol.APPROVAL_STATUSES.map((s) => `st_approval_${s}`),
      ...protocol.STEP_STATUSES.map((s) => `st_step_${s}`),
      ...protocol.WORK_REPORT_STATUSES.map((s) => `st_report_${s}`),
      ...protocol.DASHBOARD_STATUSES.map((s) => `st_dash_${s}`),
      ...protocol.PRIORITY_CATEGORIES.map((c) => `prio_${c}`),
      ...protocol.TELEWORK_TYPES.map((ty) => `twType_${ty}`),
      'twType_office',
      ...['network', 'declared', 'manual'].map((s) => `dashSource_${s}`),
    ];
    for (const key of keys) {
      expect(Object.hasOwn(en, key), key).toBe(true);
      expect(Object.hasOwn(ko, key), key).toBe(true);
      expect(ko[key], key).not.toBe('');
    }
  });

  it('has the same keys in Korean as in English, every text filled', () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(ko)) expect(text.trim(), key).not.toBe('');
  });
});
