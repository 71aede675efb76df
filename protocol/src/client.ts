/**
 * `@moim/protocol/client`: what a browser client needs at run time — constants, errors, the
 * typed emitter, tier profiles, the protocol version — without the zod schemas the server
 * validates with (they would add ~30 KB gzip to every page). Types come from `@moim/protocol`
 * with `import type`, which bundlers drop.
 */
export * from './constants.ts';
export * from './docTitle.ts';
export * from './errors.ts';
export * from './rpc.ts';
export * from './siteClock.ts';
export * from './TypedEmitter.ts';
export * from './tiers.ts';
export * from './version.ts';
