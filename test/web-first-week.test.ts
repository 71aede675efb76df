/**
 * The web app's pure helpers for issue 15: what a document is called (its stored title, an old
 * `t.` name's title, a meeting's name for its notes) and a typed title checked as the server does,
 * direct-message titles by name, and plural texts in both languages.
 */
import { describe, expect, it, vi } from 'vitest';
import { dmTitle } from '../web-demo/src/chat/names.ts';
import { docTitle, notesRoom, titleFromInput } from '../web-demo/src/docTitles.ts';
import { setLang } from '../web-demo/src/i18n.ts';
import { tn } from '../web-demo/src/plural.ts';

const NAME = /^[A-Za-z0-9][\w.:-]*$/;

describe('document titles', () => {
  it('shows the stored title, else the title an old `t.` name carries, else the name', () => {
    expect(docTitle({ name: 'd-abcdefghijkl', title: '주간 보고 👍' })).toBe('주간 보고 👍');
    expect(docTitle({ name: 'd-abcdefghijkl' })).toBe('d-abcdefghijkl');
    // documents made before titles were stored: `t.` + base64url of the title's UTF-8
    for (const title of ['주간 보고', '2026 계획 (초안)', 'Plan ✓ 👍', 'constructor', '__proto__ 문서']) {
      const name = `t.${Buffer.from(title, 'utf8').toString('base64url')}`;
      expect(name).toMatch(NAME);
      expect(docTitle({ name })).toBe(title);
      // a stored title (a rename) wins over the old name's
      expect(docTitle({ name, title: '새 제목' })).toBe('새 제목');
    }
    // a name that only looks like ours stays as it is
    expect(docTitle({ name: 't.%%%' })).toBe('t.%%%');
    expect(docTitle({ name: 't._-_' })).toBe('t._-_');
  });

  it('checks a typed title as the server does (NFC, trimmed, 1–200 characters, no control characters)', () => {
    expect(titleFromInput(`  ${'주간 보고'.normalize('NFD')} `)).toBe('주간 보고');
    expect(titleFromInput('   ')).toBeUndefined();
    expect(titleFromInput('가'.repeat(200))).toBe('가'.repeat(200));
    expect(titleFromInput('가'.repeat(201))).toBeUndefined();
    expect(titleFromInput('👍'.repeat(200))).toBe('👍'.repeat(200));
    expect(titleFromInput('a\nb')).toBeUndefined();
    expect(titleFromInput('invoice\u202Efdp.exe')).toBeUndefined();
  });

  it('titles meeting notes with the meeting’s name', () => {
    const room = '6f1c2d3e-0000-4000-8000-000000000000';
    expect(notesRoom(`room-${room}-notes`)).toBe(room);
    expect(notesRoom('plan-2026')).toBeUndefined();
    const meeting = (r: string) => (r === room ? '회의 노트: 주간 회의' : undefined);
    expect(docTitle({ name: `room-${room}-notes` }, meeting)).toBe('회의 노트: 주간 회의');
    // the meeting's name wins over a stored title; without the meeting, the title or the name
    expect(docTitle({ name: `room-${room}-notes`, title: '노트' }, meeting)).toBe('회의 노트: 주간 회의');
    expect(docTitle({ name: `room-${room}-notes` }, () => undefined)).toBe(`room-${room}-notes`);
  });
});

describe('names and plurals', () => {
  it('titles a direct message with the other people’s names', () => {
    const names = new Map([
      ['kim-1', '김민준'],
      ['lee-2', 'Lee Seo-yeon'],
    ]);
    const nameOf = (s: string) => names.get(s) ?? s;
    expect(dmTitle('kim-1, lee-2', 'kim-1', nameOf)).toBe('Lee Seo-yeon');
    expect(dmTitle('kim-1, lee-2', 'lee-2', nameOf)).toBe('김민준');
    expect(dmTitle('kim-1', 'kim-1', nameOf)).toBe('김민준');
  });

  it('pluralises replies and participants in both languages', () => {
    // setLang marks the page's language: a stand-in document outside the browser
    vi.stubGlobal('document', { documentElement: { lang: '' } });
    setLang('en');
    expect(tn('replies', 1)).toBe('1 reply');
    expect(tn('replies', 2)).toBe('2 replies');
    expect(tn('participants', 1)).toBe('1 participant');
    expect(tn('participants', 3)).toBe('3 participants');
    setLang('ko');
    expect(tn('replies', 1)).toBe('답글 1개');
    expect(tn('participants', 2)).toBe('참여자 2명');
    vi.unstubAllGlobals();
  });
});
