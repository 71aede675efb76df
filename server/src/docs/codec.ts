/**
 * The y-websocket wire codec (y-protocols): the message type constants, the messages the server
 * sends (sync steps, updates, awareness, permission denied) and the decoding of what a client
 * sends, down to the entries of an awareness update. No state and no policy: what a message may do
 * is decided by `Document` and `DocAwareness`.
 */
import { DOC_MESSAGE, DOC_SYNC_MESSAGE } from '@moim/protocol';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';

/** The message types and sync steps of the wire contract (`@moim/protocol`). */
export { DOC_MESSAGE, DOC_SYNC_MESSAGE };

/** A client's message, decoded far enough to be dispatched. */
export type ClientMessage =
  /** Sync step 1: the client's state vector (already checked to decode). */
  | { kind: 'syncStep1'; stateVector: Uint8Array }
  /** Sync step 2 or an update: a Yjs update, not decoded yet. */
  | { kind: 'update'; update: Uint8Array }
  /** An awareness update, not decoded yet (see `readAwarenessUpdate`). */
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'queryAwareness' }
  | { kind: 'auth' };

/** Decode one binary frame of a client. Throws on an unknown type or framing garbage. */
export function decodeClientMessage(message: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(message);
  const messageType = decoding.readVarUint(decoder);
  switch (messageType) {
    case DOC_MESSAGE.sync: {
      const syncStep = decoding.readVarUint(decoder);
      if (syncStep === DOC_SYNC_MESSAGE.step1) {
        const stateVector = decoding.readVarUint8Array(decoder);
        Y.decodeStateVector(stateVector); // throws on garbage before anything is queued
        return { kind: 'syncStep1', stateVector };
      }
      if (syncStep === DOC_SYNC_MESSAGE.step2 || syncStep === DOC_SYNC_MESSAGE.update) {
        return { kind: 'update', update: decoding.readVarUint8Array(decoder) };
      }
      throw new Error(`unknown sync message ${syncStep}`);
    }
    case DOC_MESSAGE.awareness:
      return { kind: 'awareness', update: decoding.readVarUint8Array(decoder) };
    case DOC_MESSAGE.queryAwareness:
      return { kind: 'queryAwareness' };
    case DOC_MESSAGE.auth:
      return { kind: 'auth' };
    default:
      throw new Error(`unknown message type ${messageType}`);
  }
}

const syncMessage = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.sync);
  write(e);
  return encoding.toUint8Array(e);
};

/** Sync step 1: the document's state vector (asks the client for what the document lacks). */
export function syncStep1Message(ydoc: Y.Doc): Uint8Array {
  return syncMessage((e) => {
    encoding.writeVarUint(e, DOC_SYNC_MESSAGE.step1);
    encoding.writeVarUint8Array(e, Y.encodeStateVector(ydoc));
  });
}

/** Sync step 2: the answer to a client's step 1 (what it lacks, as one update). */
export function syncStep2Message(update: Uint8Array): Uint8Array {
  return syncMessage((e) => {
    encoding.writeVarUint(e, DOC_SYNC_MESSAGE.step2);
    encoding.writeVarUint8Array(e, update);
  });
}

/** A document update broadcast to clients. */
export function syncUpdateMessage(update: Uint8Array): Uint8Array {
  return syncMessage((e) => {
    encoding.writeVarUint(e, DOC_SYNC_MESSAGE.update);
    encoding.writeVarUint8Array(e, update);
  });
}

/** The awareness states of `clients` (a removed one goes out as a `null` state). */
export function awarenessMessage(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.awareness);
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(e);
}

/** The auth message telling a client its change was refused. */
export function permissionDeniedMessage(reason: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.auth);
  authProtocol.writePermissionDenied(e, reason);
  return encoding.toUint8Array(e);
}

/** One entry of an awareness update: a client id, its clock, and its state as JSON bytes (unparsed). */
export interface AwarenessEntry {
  id: number;
  clock: number;
  state: Uint8Array;
}

/**
 * Start reading an awareness update: its entry count, and the decoder to read each entry from
 * with `readAwarenessEntry` (entries are read one at a time, so a reader may stop early).
 */
export function readAwarenessUpdate(update: Uint8Array): { count: number; decoder: decoding.Decoder } {
  const decoder = decoding.createDecoder(update);
  return { count: decoding.readVarUint(decoder), decoder };
}

/** The next entry of an awareness update. Each takes at least 3 bytes: past the input it throws. */
export function readAwarenessEntry(decoder: decoding.Decoder): AwarenessEntry {
  const id = decoding.readVarUint(decoder);
  const clock = decoding.readVarUint(decoder);
  const state = decoding.readVarUint8Array(decoder); // the state's JSON (a varString), unparsed
  return { id, clock, state };
}

/** An awareness update holding exactly `entries`. */
export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const out = encoding.createEncoder();
  encoding.writeVarUint(out, entries.length);
  for (const k of entries) {
    encoding.writeVarUint(out, k.id);
    encoding.writeVarUint(out, k.clock);
    encoding.writeVarUint8Array(out, k.state);
  }
  return encoding.toUint8Array(out);
}

/** Decodes state JSON; stateless (no streaming), so one serves every call. */
const utf8 = new TextDecoder();

/** Is an awareness state's JSON `null` (a removal)? Only short texts can be. */
export function isNullState(json: Uint8Array): boolean {
  return json.byteLength <= 32 && utf8.decode(json).trim() === 'null';
}
