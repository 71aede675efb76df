import { MoimError } from '@moim/protocol';
import { SfuError } from '@moim/sfu';
import { describe, expect, it } from 'vitest';
import { StoreClosedError, StoreUnavailableError } from '../storage/storageErrors.ts';
import { toWireError } from './wireErrors.ts';

describe('toWireError', () => {
  it('maps the typed internal errors to their wire codes, and nothing else', () => {
    expect(toWireError(new SfuError('ROOM_FULL', 'full'))?.code).toBe('ROOM_FULL');
    expect(toWireError(new StoreClosedError('chat store'))?.code).toBe('UNAVAILABLE');
    expect(toWireError(new StoreUnavailableError('connection lost'))?.code).toBe('UNAVAILABLE');
    expect(toWireError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))?.code).toBe('STORAGE_FULL');
    const own = new MoimError('FORBIDDEN', 'no');
    expect(toWireError(own)).toBe(own);
    expect(toWireError(new Error('chat store is closed'))).toBeUndefined();
    expect(toWireError('a string')).toBeUndefined();
  });
});
