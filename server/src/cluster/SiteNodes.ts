/**
 * Which live node stands at a site (MOIM_NODE_SITE), for the cascade's rule "a client is served
 * media by a node of its own site where one is alive, else by the room's home": the registry's
 * live nodes, read at most every `ttlMs` (a dead node drops out once its lease lapsed, and its
 * death is also heard at once).
 */
import type { NodeRegistry } from './NodeRegistry.ts';

export class SiteNodes {
  readonly #registry: NodeRegistry;
  readonly #ttlMs: number;
  #read: { at: number; bySite: Promise<Map<string, string[]>> } | undefined;

  /** `nodeOf` of a new instance, as a function. */
  static lookup(registry: NodeRegistry): (site: string) => Promise<string | undefined> {
    const sites = new SiteNodes(registry);
    return (site) => sites.nodeOf(site);
  }

  constructor(registry: NodeRegistry, ttlMs = 1000) {
    this.#registry = registry;
    this.#ttlMs = ttlMs;
    registry.on('nodeDead', () => {
      this.#read = undefined;
    });
  }

  /** A live node of `site` (the same one for everyone while it lives), undefined when there is none. */
  async nodeOf(site: string): Promise<string | undefined> {
    if (!this.#read || performance.now() - this.#read.at > this.#ttlMs) {
      const bySite = this.#registry.alive().then((nodes) => {
        const m = new Map<string, string[]>();
        for (const n of nodes) if (n.site) m.set(n.site, [...(m.get(n.site) ?? []), n.id].sort());
        return m;
      });
      this.#read = { at: performance.now(), bySite };
      // a failed read is its callers' (each is told UNAVAILABLE); the next call reads again
      bySite.catch(() => {
        if (this.#read?.bySite === bySite) this.#read = undefined;
      });
    }
    return (await this.#read.bySite).get(site)?.[0];
  }
}
