/** Reactions of a page of messages, grouped as the wire carries them (shared by the SQL stores). */
import type { StoredReaction } from './ChatStore.ts';

/** People listed per reaction at most (the count is exact). */
export const REACTION_PEOPLE = 50;

/** Rows ordered by seq, time, emoji, person → each message's reactions, by seq. */
export function groupReactions(
  rows: Iterable<{ seq: number; emoji: string; sub: string }>,
): Map<number, StoredReaction[]> {
  const grouped = new Map<number, Map<string, string[]>>();
  for (const r of rows) {
    let bySeq = grouped.get(r.seq);
    if (!bySeq) {
      bySeq = new Map();
      grouped.set(r.seq, bySeq);
    }
    let people = bySeq.get(r.emoji);
    if (!people) {
      people = [];
      bySeq.set(r.emoji, people);
    }
    people.push(r.sub);
  }
  const out = new Map<number, StoredReaction[]>();
  for (const [seq, bySeq] of grouped)
    out.set(
      seq,
      [...bySeq].map(([emoji, people]) => ({ emoji, count: people.length, people: people.slice(0, REACTION_PEOPLE) })),
    );
  return out;
}
