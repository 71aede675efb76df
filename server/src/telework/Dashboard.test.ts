import type { DashboardPerson, DashboardView } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import { toJsonInTurns } from './Dashboard.ts';

const person = (i: number): DashboardPerson => ({
  sub: `p${i}`,
  name: `사람 "${i}", \\ ,`,
  team: 't',
  expectedSiteId: i % 3 ? 'hq' : null,
  expectedType: i % 3 ? 'office' : null,
  checkedInSiteId: null,
  source: null,
  checkedInAt: null,
  status: 'off',
  online: i % 2 === 0,
});

const view = (people: number): DashboardView => ({
  day: '2030-01-07',
  at: '2030-01-07T00:00:00.000Z',
  scope: 'org',
  totals: {
    people,
    expected: 0,
    checkedIn: 0,
    late: 0,
    absent: 0,
    notYet: 0,
    online: 0,
    atHome: 0,
    atCentres: 0,
    atHq: 0,
    pendingApprovals: 0,
  },
  sites: [],
  teams: [],
  people: Array.from({ length: people }, (_, i) => person(i)),
});

describe('the dashboard view’s JSON made in turns', () => {
  it('is exactly JSON.stringify of the view, for no, few and several thousand people', async () => {
    for (const n of [0, 1, 999, 1000, 1001, 2500]) expect(await toJsonInTurns(view(n))).toBe(JSON.stringify(view(n)));
  });
});
