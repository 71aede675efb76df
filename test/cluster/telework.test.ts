/**
 * Telework across nodes (issue 14 with CLARIFICATIONS: "Run the booking race on PostgreSQL across
 * two nodes too"): twenty people booking one seat for one slot at once, their requests spread over
 * two node processes on one PostgreSQL schema, get exactly one booking and nineteen
 * BOOKING_CONFLICT — the exclusion constraint decides, not a check in either node.
 */
import { describe, expect, it } from 'vitest';
import { devToken } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';

const fixture = useCluster(['node-a', 'node-b'], { MOIM_MAX_SOCKETS_PER_ADDRESS: '5000' });
const nodes = fixture.nodes;

async function http(
  node: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: { error?: { code: string } } & Record<string, unknown> }> {
  const res = await fetch(`${nodes[node]!.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
}

describe('telework across nodes', () => {
  it('twenty racing bookings of one seat over two nodes: one booked, nineteen BOOKING_CONFLICT', async () => {
    const admin = await devToken(nodes[0]!.url, { name: 'Admin', sub: 'tw-admin', role: 'admin', org: 'tw' });
    const allDay = { open: '00:00', close: '23:59' };
    const centre = {
      name: 'Sejong office',
      address: '',
      timeZone: 'Asia/Seoul',
      openingHours: [allDay, allDay, allDay, allDay, allDay, allDay, allDay],
      networks: [],
      kind: 'hq',
    };
    expect((await http(0, 'PUT', '/telework/sites/sejong', admin, centre)).status).toBe(201);
    // the other node reads the site the first one stored
    const seat = { kind: 'seat', name: 'Desk 1', tier: null, capacity: 1 };
    expect((await http(1, 'PUT', '/telework/sites/sejong/places/desk-1', admin, seat)).status).toBe(201);
    const people = await Promise.all(
      Array.from({ length: 20 }, (_, i) => devToken(nodes[i % 2]!.url, { name: `p${i}`, sub: `tw-p${i}`, org: 'tw' })),
    );
    // tomorrow 10:00 in Seoul (01:00 UTC): inside the day whatever the hour the test runs
    const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul' }).format(Date.now() + 86_400_000);
    const start = new Date(`${tomorrow}T01:00:00Z`);
    const slot = {
      siteId: 'sejong',
      placeId: 'desk-1',
      start: start.toISOString(),
      end: new Date(start.getTime() + 3_600_000).toISOString(),
    };
    const answers = await Promise.all(people.map((token, i) => http(i % 2, 'POST', '/telework/bookings', token, slot)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.body.error?.code === 'BOOKING_CONFLICT')).toHaveLength(19);
    // both nodes see the one booking in the day view
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul' }).format(start);
    for (const node of [0, 1]) {
      const view = await http(node, 'GET', `/telework/bookings?siteId=sejong&day=${day}`, admin);
      expect((view.body.bookings as unknown[]).length).toBe(1);
    }
  });
});
