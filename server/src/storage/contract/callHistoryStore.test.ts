/** The call history store's contract, run unchanged against SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import type { CallHistoryRecord, Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const entry = (callId: string, endedAt: number, extra: Partial<CallHistoryRecord> = {}): CallHistoryRecord => ({
  callId,
  direction: 'incoming',
  outcome: 'missed',
  with: ['kim'],
  group: false,
  startedAt: endedAt - 1000,
  endedAt,
  unread: true,
  meeting: null,
  ...extra,
});

describe.each(BACKENDS)('call history store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('lists a person’s entries newest first with the unread count; a second add of a call is ignored', async () => {
    await stores.calls.add('acme', 'lee', entry('c1', 1_000), 10);
    await stores.calls.add(
      'acme',
      'lee',
      entry('c2', 3_000, { outcome: 'answered', unread: false, with: ['kim', 'park'], group: true }),
      10,
    );
    await stores.calls.add(
      'acme',
      'lee',
      entry('c3', 2_000, { direction: 'outgoing', outcome: 'busy', unread: false }),
      10,
    );
    await stores.calls.add('acme', 'lee', entry('c1', 9_000, { outcome: 'answered' }), 10);
    const page = await stores.calls.list('acme', 'lee', 10);
    expect(page.entries.map((e) => e.callId)).toEqual(['c2', 'c3', 'c1']);
    expect(page.entries[0]).toEqual(
      entry('c2', 3_000, { outcome: 'answered', unread: false, with: ['kim', 'park'], group: true }),
    );
    expect(page.entries[2]).toEqual(entry('c1', 1_000));
    expect(page.unread).toBe(1);
    expect((await stores.calls.list('acme', 'lee', 1)).entries.map((e) => e.callId)).toEqual(['c2']);
  });

  it('keeps the meeting of an invitation’s entry (its room id and name, a name may be null)', async () => {
    await stores.calls.add('acme', 'lee', entry('i1', 1_000, { meeting: { roomId: 'r-1', name: '주간 회의' } }), 10);
    await stores.calls.add('acme', 'lee', entry('i2', 2_000, { meeting: { roomId: 'r-2', name: null } }), 10);
    const page = await stores.calls.list('acme', 'lee', 10);
    expect(page.entries.map((e) => e.meeting)).toEqual([
      { roomId: 'r-2', name: null },
      { roomId: 'r-1', name: '주간 회의' },
    ]);
  });

  it('keeps the newest entries per person, and scopes everything by org and person', async () => {
    for (let i = 1; i <= 5; i++) await stores.calls.add('acme', 'lee', entry(`c${i}`, i * 1000), 3);
    await stores.calls.add('other', 'lee', entry('x1', 1000), 3);
    await stores.calls.add('acme', 'kim', entry('k1', 1000), 3);
    expect((await stores.calls.list('acme', 'lee', 10)).entries.map((e) => e.callId)).toEqual(['c5', 'c4', 'c3']);
    expect(await stores.calls.markRead('acme', 'lee')).toBe(3);
    expect(await stores.calls.markRead('acme', 'lee')).toBe(0);
    expect((await stores.calls.list('acme', 'lee', 10)).unread).toBe(0);
    expect((await stores.calls.list('other', 'lee', 10)).unread).toBe(1);
    expect((await stores.calls.list('acme', 'kim', 10)).entries.map((e) => e.callId)).toEqual(['k1']);
    expect(await stores.calls.list('acme', 'nobody', 10)).toEqual({ entries: [], unread: 0 });
  });
});
