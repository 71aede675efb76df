/**
 * A subscribed channel's catch-up: fetch every message after the last seq loaded without a gap
 * (or the latest page the first time) up to at least a given seq; runs of one channel queue.
 * `Chat` merges what it fetches (by seq, so nothing is announced twice).
 */
import type { ChatMessage } from '@moim/protocol';
import type { MoimClient } from '../MoimClient.ts';
import type { ChannelState } from './types.ts';

/** Fetch everything after `through` (or the latest page the first time) up to at least `lastSeq`. */
export function catchUp(
  client: MoimClient,
  st: ChannelState,
  lastSeq: number,
  merge: (messages: ChatMessage[], announce: boolean) => void,
): Promise<void> {
  const run = async () => {
    if (st.messages.size === 0 && st.through === 0) {
      const res = await client.request('chat:history', { channelId: st.id, limit: 50 });
      merge(res.messages, false);
      st.hasOlder = res.hasMore;
      st.through = Math.max(st.through, lastSeq, ...res.messages.map((m) => m.seq));
      return;
    }
    while (st.through < lastSeq) {
      const res = await client.request('chat:history', { channelId: st.id, after: st.through, limit: 200 });
      merge(res.messages, true);
      const top = res.messages.reduce((m, x) => Math.max(m, x.seq), st.through);
      // thread replies share the seq space; an empty page means nothing more is stored
      st.through = res.messages.length === 0 || !res.hasMore ? Math.max(top, lastSeq) : top;
      if (!res.hasMore) break;
    }
  };
  const previous = st.catchingUp ?? Promise.resolve();
  const p = previous.then(run, run).finally(() => {
    if (st.catchingUp === p) st.catchingUp = undefined;
  });
  st.catchingUp = p;
  return p;
}
