// biome-ignore lint/suspicious/noExplicitAny: listener parameter lists are checked per event by the Events map
type Listener = (...args: any[]) => void;

/**
 * A small typed event emitter for server, SFU and browser alike (no node:events). A throwing
 * listener cannot break the emitter: the error goes to `onListenerError` and the other listeners
 * still run (mediasoup's `safeEmit`).
 */
export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();
  onListenerError: (event: string, error: unknown) => void = () => {};

  on<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    const wrapper = ((...args: Parameters<Events[K]>) => {
      this.off(event, wrapper);
      listener(...args);
    }) as Events[K];
    return this.on(event, wrapper);
  }

  off<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  removeAllListeners(): this {
    this.#listeners.clear();
    return this;
  }

  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  safeEmit<K extends keyof Events & string>(event: K, ...args: Parameters<Events[K]>): boolean {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        try {
          this.onListenerError(event, error);
        } catch {
          // the reporter must not break the emitter either
        }
      }
    }
    return true;
  }
}
