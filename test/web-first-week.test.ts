/**
 * The web app's pure helpers for issue 15: document names derived from free-text titles (and
 * back), direct-message titles by name, and plural texts in both languages.
 */
import { describe, expect, it, vi } from 'vitest';
import { dmTitle } from '../web-demo/src/chat/names.ts';
import { docNameFor, docTitle, notesRoom } from '../web-demo/src/docTitles.ts';
import { setLang } from '../web-demo/src/i18n.ts';
import { tn } from '../web-demo/src/plural.ts';

const NAME = /^[A-Za-z0-9][\w.:-]*$/;

describe('document titles', () => {
  it('derives a valid name from any title and reads the title back', () => {
    for (const title of ['주간 보고', '2026 계획 (초안)', 'Plan ✓ 👍', 'constructor', '__proto__ 문서']) {
      const name = docNameFor(title)!;
      expect(name).toMatch(NAME);
      expect(name.length).toBeLessThanOrEqual(128);
      expect(docTitle(name)).toBe(title);
    }
    // a title that is a valid name is its own name
    expect(docNameFor('plan-2026')).toBe('plan-2026');
    expect(docNameFor('   ')).toBeUndefined();
    // a long title is cut by whole characters to fit
    const long = '가'.repeat(100);
    const name = docNameFor(long)!;
    expect(name.length).toBeLessThanOrEqual(128);
    expect(long.startsWith(docTitle(name))).toBe(true);
    // a name that only looks like ours stays as it is
    expect(docTitle('t.%%%')).toBe('t.%%%');
    expect(docTitle('t._-_')).toBe('t._-_');
  });

  it('titles meeting notes with the meeting’s name', () => {
    const room = '6f1c2d3e-0000-4000-8000-000000000000';
    expect(notesRoom(`room-${room}-notes`)).toBe(room);
    expect(notesRoom('plan-2026')).toBeUndefined();
    expect(docTitle(`room-${room}-notes`, (r) => (r === room ? '회의 노트: 주간 회의' : undefined))).toBe(
      '회의 노트: 주간 회의',
    );
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
