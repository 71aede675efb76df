import { describe, expectTypeOf, it } from 'vitest';
import type { ClientToServerEvents, RequestName, Responses, ServerToClientEvents } from './events.ts';
import type { Ack } from './rpc.ts';

describe('event maps', () => {
  it('types each request payload and its acknowledgement', () => {
    expectTypeOf<Parameters<ClientToServerEvents['system:ping']>[0]>().toEqualTypeOf<{ t: number }>();
    expectTypeOf<Parameters<NonNullable<Parameters<ClientToServerEvents['system:ping']>[1]>>[0]>().toEqualTypeOf<
      Ack<{ t: number; serverTime: number }>
    >();
  });

  it('has a response type for every request', () => {
    expectTypeOf<Exclude<RequestName, keyof Responses>>().toEqualTypeOf<never>();
  });

  it('types server events', () => {
    expectTypeOf<ServerToClientEvents['system:notice']>().parameter(0).toHaveProperty('code');
    expectTypeOf<ServerToClientEvents['doc:title']>()
      .parameter(0)
      .toEqualTypeOf<{ name: string; title: string; by: string; at: number }>();
  });
});
