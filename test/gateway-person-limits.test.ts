import { afterEach, describe, expect, it } from 'vitest';
import { call, request, startTestServer, type TestServer, type TestSocket } from '../server/src/testing/index.ts';

/**
 * Issue 11 item 9 (socket.io): one person on 20 connections sent 590 `presence:set`/s because the
 * token bucket was per connection. A bucket per person (org + sub) is shared by all their
 * connections, and the number of simultaneous connections of one person is capped.
 */
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type AckShape = { data?: unknown; error?: { code: string; message: string } };

async function refusal(p: Promise<TestSocket>): Promise<string | undefined> {
  try {
    const s = await p;
    s.disconnect();
    return 'CONNECTED';
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('per-person limits across connections', () => {
  it('20 connections of one person share one rate; others are unaffected; it recovers', async () => {
    const rate = 40;
    const burst = 40;
    // per-connection limits stay at their defaults (50/s, burst 200): alone, each tab could do more
    server = await startTestServer({
      MOIM_RATE_LIMIT_PERSON_PER_SEC: String(rate),
      MOIM_RATE_LIMIT_PERSON_BURST: String(burst),
    });
    const token = await server.token({ name: 'Flood', sub: 'flood' });
    // the default cap admits a person with 20 tabs and devices
    const tabs = await Promise.all(Array.from({ length: 20 }, () => server!.connect(token)));
    const calm = await server.connect(await server.token({ name: 'Calm', sub: 'calm' }));
    expect(server.app.gateway.connectionsOf('default', 'flood')).toBe(20);

    const started = performance.now();
    const acks: Array<Promise<AckShape>> = [];
    let calmOk = 0;
    // ~1 s of 100 presence:set per second on each of the 20 tabs (2,000 requests)
    for (let round = 0; round < 20; round++) {
      for (const tab of tabs)
        for (let i = 0; i < 5; i++)
          acks.push(request(tab, 'presence:set', { status: `r${round}` }) as Promise<AckShape>);
      if (round % 5 === 0 && !('error' in (await request(calm, 'presence:set', { status: `calm ${round}` })))) calmOk++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await Promise.all(acks);
    const elapsed = (performance.now() - started) / 1000;
    const accepted = results.filter((a) => !a.error).length;
    const limited = results.filter((a) => a.error?.code === 'RATE_LIMITED');
    expect(accepted + limited.length).toBe(results.length);
    // never more than the shared bucket allows: burst + rate × elapsed (+1 for rounding)
    expect(accepted).toBeLessThanOrEqual(Math.ceil(burst + rate * elapsed) + 1);
    expect(accepted).toBeGreaterThanOrEqual(burst);
    expect(limited[0]?.error?.message).toMatch(/person/);
    // someone else was served throughout
    expect(calmOk).toBe(4);

    // the shared bucket refills
    await new Promise((r) => setTimeout(r, 300));
    expect(await call(tabs[0]!, 'presence:set', { status: 'recovered' })).toMatchObject({ status: 'recovered' });

    // entries go with the last connection
    const people = server.app.gateway.connectedPeople;
    for (const tab of tabs) tab.disconnect();
    await until(() => server!.app.gateway.connectionsOf('default', 'flood') === 0, 'the tabs to close');
    expect(server.app.gateway.connectedPeople).toBe(people - 1);
  });

  it('refuses the connection past the per-person cap at the handshake; a closed one frees a place', async () => {
    server = await startTestServer({ MOIM_MAX_CONNECTIONS_PER_PERSON: '3' });
    const token = await server.token({ name: 'Tabs', sub: 'tabs' });
    const open = [await server.connect(token), await server.connect(token), await server.connect(token)];
    expect(await refusal(server.connect(token))).toBe('TOO_MANY_CONNECTIONS');
    // a fresh token of the same person counts the same
    expect(await refusal(server.connect(await server.token({ name: 'Tabs', sub: 'tabs' })))).toBe(
      'TOO_MANY_CONNECTIONS',
    );
    // other people, and the same sub in another organisation, are other people
    expect(await refusal(server.connect(await server.token({ name: 'Other', sub: 'other' })))).toBe('CONNECTED');
    expect(await refusal(server.connect(await server.token({ name: 'Tabs', sub: 'tabs', org: 'globex' })))).toBe(
      'CONNECTED',
    );
    // the open ones are untouched
    for (const s of open) expect(await call(s, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });

    open[0]!.disconnect();
    await until(() => server!.app.gateway.connectionsOf('default', 'tabs') === 2, 'the server to see the close');
    const again = await server.connect(token);
    expect(await call(again, 'system:ping', { t: 2 })).toMatchObject({ t: 2 });
    expect(await refusal(server.connect(token))).toBe('TOO_MANY_CONNECTIONS');
  });

  it('simultaneous handshakes never exceed the cap', async () => {
    server = await startTestServer({ MOIM_MAX_CONNECTIONS_PER_PERSON: '4' });
    const token = await server.token({ name: 'Rush', sub: 'rush' });
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => refusalKeep(server!.connect(token))));
    expect(outcomes.filter((o) => o === 'CONNECTED')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'TOO_MANY_CONNECTIONS')).toHaveLength(8);
    expect(server.app.gateway.connectionsOf('default', 'rush')).toBe(4);
  });

  it('a refresh into an organisation where the person is at the cap is refused; the connection keeps its token', async () => {
    server = await startTestServer({ MOIM_MAX_CONNECTIONS_PER_PERSON: '2' });
    const home = await server.token({ name: 'Mover', sub: 'mover', org: 'globex' });
    await server.connect(home);
    await server.connect(home);
    const moving = await server.connect(await server.token({ name: 'Mover', sub: 'mover' }));
    const ack = (await request(moving, 'system:auth', { token: home })) as AckShape;
    expect(ack.error?.code).toBe('TOO_MANY_CONNECTIONS');
    expect(await call<{ org: string }>(moving, 'system:whoami', {})).toMatchObject({ org: 'default' });
    expect(server.app.gateway.connectionsOf('globex', 'mover')).toBe(2);
    expect(server.app.gateway.connectionsOf('default', 'mover')).toBe(1);
  });
});

/** Like `refusal`, but keeps accepted sockets open (so they count). */
async function refusalKeep(p: Promise<TestSocket>): Promise<string | undefined> {
  try {
    await p;
    return 'CONNECTED';
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
