/** Tests of `codec.ts`: what the server sends decodes as y-protocols expects, and client frames decode or throw. */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  DOC_MESSAGE,
  DOC_SYNC_MESSAGE,
  decodeClientMessage,
  encodeAwarenessUpdate,
  isNullState,
  readAwarenessEntry,
  readAwarenessUpdate,
  syncStep1Message,
  syncStep2Message,
  syncUpdateMessage,
} from './codec.ts';

const frame = (...parts: Array<number | Uint8Array>): Uint8Array => {
  const e = encoding.createEncoder();
  for (const p of parts) {
    if (typeof p === 'number') encoding.writeVarUint(e, p);
    else encoding.writeVarUint8Array(e, p);
  }
  return encoding.toUint8Array(e);
};

const json = (s: string) => new TextEncoder().encode(s);

describe('decodeClientMessage', () => {
  it('decodes the sync steps, updates, awareness, queries and auth', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hi');
    const vector = Y.encodeStateVector(doc);
    const update = Y.encodeStateAsUpdate(doc);
    expect(decodeClientMessage(frame(DOC_MESSAGE.sync, DOC_SYNC_MESSAGE.step1, vector))).toEqual({
      kind: 'syncStep1',
      stateVector: vector,
    });
    for (const step of [DOC_SYNC_MESSAGE.step2, DOC_SYNC_MESSAGE.update]) {
      expect(decodeClientMessage(frame(DOC_MESSAGE.sync, step, update))).toEqual({ kind: 'update', update });
    }
    expect(decodeClientMessage(frame(DOC_MESSAGE.awareness, update))).toEqual({ kind: 'awareness', update });
    expect(decodeClientMessage(frame(DOC_MESSAGE.queryAwareness))).toEqual({ kind: 'queryAwareness' });
    expect(decodeClientMessage(frame(DOC_MESSAGE.auth))).toEqual({ kind: 'auth' });
    doc.destroy();
  });

  it('throws on unknown types, unknown sync steps and framing garbage', () => {
    expect(() => decodeClientMessage(frame(99))).toThrow('unknown message type 99');
    expect(() => decodeClientMessage(frame(DOC_MESSAGE.sync, 7))).toThrow('unknown sync message 7');
    expect(() => decodeClientMessage(new Uint8Array([]))).toThrow();
    expect(() => decodeClientMessage(frame(DOC_MESSAGE.sync, DOC_SYNC_MESSAGE.step1, new Uint8Array([5])))).toThrow();
  });

  it('reads what the server sends back', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hi');
    const update = Y.encodeStateAsUpdate(doc);
    expect(decodeClientMessage(syncStep1Message(doc))).toEqual({
      kind: 'syncStep1',
      stateVector: Y.encodeStateVector(doc),
    });
    expect(decodeClientMessage(syncStep2Message(update))).toEqual({ kind: 'update', update });
    expect(decodeClientMessage(syncUpdateMessage(update))).toEqual({ kind: 'update', update });
    doc.destroy();
  });
});

describe('awareness entries', () => {
  it('round-trip through encodeAwarenessUpdate and readAwarenessEntry', () => {
    const entries = [
      { id: 1, clock: 3, state: json('{"user":"a"}') },
      { id: 200_000, clock: 0, state: json('null') },
    ];
    const { count, decoder } = readAwarenessUpdate(encodeAwarenessUpdate(entries));
    expect(count).toBe(2);
    expect([readAwarenessEntry(decoder), readAwarenessEntry(decoder)]).toEqual(entries);
    expect(() => readAwarenessEntry(decoder)).toThrow();
  });

  it('tells a removal (null state) from a state', () => {
    expect(isNullState(json('null'))).toBe(true);
    expect(isNullState(json('  null \n'))).toBe(true);
    expect(isNullState(json('{"null":null}'))).toBe(false);
    expect(isNullState(json(`${' '.repeat(40)}null`))).toBe(false);
  });
});
