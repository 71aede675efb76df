import { describe, expect, test } from 'vitest';
import { checkArchitecture, importsOf, type Violation } from './support/architecture.ts';
import { productionSources } from './support/productionSources.ts';

/**
 * The dependency arrows of docs/ARCHITECTURE.md, checked on the real imports (TypeScript syntax
 * tree, test/support/architecture.ts), value and type imports alike:
 * - packages: web-demo → client-sdk → protocol ← server → sfu → protocol (client-sdk never imports
 *   server code, the SFU nothing of the server, protocol nothing of ours);
 * - server/src: services (presence, chat, docs, media, storage, auth) never import gateway/ or http/,
 *   except the allowances named in SERVICE_EDGE_ALLOWED; storage/ imports no service.
 * Production files only: tests and test helpers (`*.test.ts`, `testing/`, `testing.ts`) may reach
 * across to wire things up.
 */

const describeAll = (found: Violation[]) =>
  found.map((v) => `${v.file}:${v.line} ${v.rule}${v.typeOnly ? ' (type)' : ''}: ${v.spec}`);

/** In-memory fixture: each line marked `// FORBIDDEN` must be flagged, no other line may be. */
const FIXTURE: Record<string, string> = {
  'protocol/src/bad.ts': [
    "import { z } from 'zod';",
    "import { x } from './constants.ts';",
    "import { Gateway } from '@moim/server'; // FORBIDDEN",
    "import type { Peer } from '../../sfu/src/Peer.ts'; // FORBIDDEN",
  ].join('\n'),
  'sfu/src/bad.ts': [
    "import { MoimError } from '@moim/protocol';",
    "import type { Metrics } from '../../server/src/observability/Metrics.ts'; // FORBIDDEN",
    "const later = () => import('@moim/server'); // FORBIDDEN",
  ].join('\n'),
  'client-sdk/src/bad.ts': [
    "import { requestSchemas } from '@moim/protocol/client';",
    "export { personRoom } from '../../server/src/lib/rooms.ts'; // FORBIDDEN",
    "type T = import('@moim/server').MoimServer; // FORBIDDEN",
  ].join('\n'),
  'web-demo/src/ok.ts': [
    "import { MoimClient } from '@moim/client-sdk';",
    "import { DOC_CLOSE } from '@moim/protocol';",
  ].join('\n'),
  'server/src/presence/Bad.ts': [
    "import { personRoom } from '../lib/rooms.ts';",
    "import type { Metrics } from '../observability/Metrics.ts';",
    "import type { PresenceStore } from '../storage/PresenceStore.ts';",
    "import { MediaRoom } from '@moim/sfu';",
    "import { personRoom as old } from '../gateway/Gateway.ts'; // FORBIDDEN",
    "import type { HttpRouter } from '../http/HttpRouter.ts'; // FORBIDDEN",
    "import { type Connection } from '../gateway/Gateway.ts'; // FORBIDDEN",
  ].join('\n'),
  'server/src/docs/routes.ts': [
    "import { bearerToken, type HttpRouter } from '../http/HttpRouter.ts';",
    "import { UpgradeRouter } from '../http/Upgrades.ts'; // FORBIDDEN",
  ].join('\n'),
  'server/src/storage/Bad.ts': [
    "import type { Logger } from '../logger.ts';",
    "import { Principal } from '../auth/Principal.ts'; // FORBIDDEN",
    "import type { ChatService } from '../chat/ChatService.ts'; // FORBIDDEN",
  ].join('\n'),
  'server/src/gateway/ok.ts': [
    "import { PresenceService } from '../presence/PresenceService.ts';",
    "import { describeZodError } from '../lib/zodError.ts';",
    "import { HttpRouter } from '../http/HttpRouter.ts';",
  ].join('\n'),
  'server/src/app.ts': [
    "import { Gateway } from './gateway/Gateway.ts';",
    "import { Metrics } from './observability/Metrics.ts';",
  ].join('\n'),
};

describe('architecture: forbidden imports', () => {
  test('the checker flags exactly the forbidden imports of the fixture', () => {
    const files = Object.entries(FIXTURE).map(([p, source]) => ({ path: p, source }));
    const expected = files.flatMap((f) =>
      f.source.split('\n').flatMap((line, i) => (line.endsWith('// FORBIDDEN') ? [`${f.path}:${i + 1}`] : [])),
    );
    expect(expected.length).toBeGreaterThanOrEqual(10);
    const found = checkArchitecture(files);
    expect(found.map((v) => `${v.file}:${v.line}`).sort()).toEqual(expected.sort());
    const rules = new Set(found.map((v) => v.rule));
    expect(rules).toEqual(new Set(['package', 'service-edge', 'storage-service']));
  });

  test('the import walker sees value, type, re-export and dynamic imports', () => {
    const refs = importsOf(
      'x.ts',
      [
        "import a from 'a';",
        "import type { B } from 'b';",
        "import { type C } from 'c';",
        "import { type D, e } from 'd';",
        "export * from 'f';",
        "export type { G } from 'g';",
        "const h = await import('h');",
        "let i: import('i').I;",
      ].join('\n'),
    );
    expect(refs.map((r) => [r.spec, r.typeOnly])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
      ['d', false],
      ['f', false],
      ['g', true],
      ['h', false],
      ['i', true],
    ]);
  });

  test('the repository follows the import rules', () => {
    const files = productionSources();
    expect(files.length).toBeGreaterThan(50);
    expect(describeAll(checkArchitecture(files))).toEqual([]);
  });
});
