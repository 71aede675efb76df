/**
 * Finding channels (issue 15): the public channel list searched by name or topic (case, width and
 * Unicode form ignored), a page at a time; the organisation's channel everyone is in and a team
 * channel per team of the token, neither of which can be left.
 */
import type { Channel, MyChannel } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, LIFTED_RATE_LIMITS, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(LIFTED_RATE_LIMITS);
});
afterAll(() => server.close());

const errorCode = (ack: unknown) => (ack as { error?: { code: string } }).error?.code;

describe('browsing channels', () => {
  it('searches public channels by name and topic, never private ones, one page at a time', async () => {
    const kim = await server.person('kim');
    const lee = await server.person('lee');
    const names = ['세종 협업 공간', 'Sejong Lunch', 'budget-2026', '예산 검토'];
    for (const name of names) await call<Channel>(kim.socket, 'chat:channel:create', { name, kind: 'public' });
    await call<Channel>(kim.socket, 'chat:channel:create', { name: '세종 비밀', kind: 'private' });
    await call<Channel>(kim.socket, 'chat:channel:create', {
      name: 'misc',
      kind: 'public',
      topic: '세종 centre notices',
    });

    const search = (q: string, extra: Record<string, unknown> = {}) =>
      call<{ channels: Channel[]; hasMore: boolean }>(lee.socket, 'chat:channels:public', { q, ...extra });
    const found = await search('세종');
    expect(found.channels.map((c) => c.name).sort()).toEqual(['misc', '세종 협업 공간'].sort());
    expect((await search('SEJONG')).channels.map((c) => c.name)).toEqual(['Sejong Lunch']);
    // full-width letters and decomposed Hangul find the same channels
    expect((await search('ｓｅｊｏｎｇ')).channels.map((c) => c.name)).toEqual(['Sejong Lunch']);
    expect((await search('예산'.normalize('NFD'))).channels.map((c) => c.name)).toEqual(['예산 검토']);
    expect((await search('nothing like it')).channels).toEqual([]);
    // pages: one match per page, then the rest after the last one seen
    const first = await search('e', { limit: 1 });
    expect(first.channels).toHaveLength(1);
    expect(first.hasMore).toBe(true);
    const next = await search('e', { limit: 50, after: first.channels[0]!.id });
    expect(next.channels.map((c) => c.id)).not.toContain(first.channels[0]!.id);
    // a search text is bounded
    expect(errorCode(await request(lee.socket, 'chat:channels:public', { q: 'x'.repeat(81) }))).toBe('INVALID_PAYLOAD');
  });

  it('puts everyone in the organisation’s channel and each team’s people in its channel', async () => {
    const a = await server.person('ana', { teams: ['기획팀', 'ops'] });
    const b = await server.person('ben', { teams: ['기획팀'] });
    const mine = async (s: typeof a) => (await call<{ channels: MyChannel[] }>(s.socket, 'chat:channels', {})).channels;
    const ofA = await mine(a);
    const ofB = await mine(b);
    const everyone = ofA.find((c) => c.id === 'org-everyone');
    expect(everyone?.kind).toBe('public');
    expect(ofB.some((c) => c.id === 'org-everyone')).toBe(true);
    const teamA = ofA.filter((c) => c.id.startsWith('team-'));
    expect(teamA.map((c) => c.name).sort()).toEqual(['ops', '기획팀']);
    expect(teamA.every((c) => c.kind === 'private')).toBe(true);
    const planning = ofB.find((c) => c.name === '기획팀')!;
    expect(teamA.some((c) => c.id === planning.id)).toBe(true);
    expect(ofB.some((c) => c.name === 'ops')).toBe(false);
    // neither can be left
    expect(errorCode(await request(a.socket, 'chat:leave', { channelId: 'org-everyone' }))).toBe('FORBIDDEN');
    expect(errorCode(await request(b.socket, 'chat:leave', { channelId: planning.id }))).toBe('FORBIDDEN');
    // a team's channel is not in the public list
    const listed = await call<{ channels: Channel[] }>(b.socket, 'chat:channels:public', { q: '기획팀' });
    expect(listed.channels).toEqual([]);
  });
});
