/**
 * The `after` cursor of the document list (`GET /docs?sort=&after=`): where the next page starts,
 * in the order's terms. `name` order: the last name (as before sorts existed). `updated`:
 * `u.<updatedAt>.<name>`. `title`: `t.<base64url of the title's UTF-8>.<name>`. Parsed strictly at
 * the edge (INVALID_PAYLOAD), never trusted beyond being compared in SQL.
 */
import { type DocListSort, docNameSchema, MoimError } from '@moim/protocol';
import type { DocListAfter, DocListRow } from '../storage/DocStore.ts';

/** Longest cursor: a title of 200 characters (≤ 800 bytes → 1,068 base64url) and a name of 128. */
export const DOC_CURSOR_MAX = 1_300;

/** The cursor that starts a page after `row`. */
export function cursorOf(sort: DocListSort, row: DocListRow): string {
  if (sort === 'updated') return `u.${row.updatedAt}.${row.name}`;
  if (sort === 'title') return `t.${Buffer.from(row.listTitle ?? row.name, 'utf8').toString('base64url')}.${row.name}`;
  return row.name;
}

const bad = (why: string): MoimError => new MoimError('INVALID_PAYLOAD', `after: ${why}`);

/** A cursor as sent, for `sort`; INVALID_PAYLOAD when it is not one `cursorOf` makes for that sort. */
export function parseCursor(sort: DocListSort, raw: string): DocListAfter {
  if (raw.length > DOC_CURSOR_MAX) throw bad('too long');
  if (sort === 'name') {
    // as before sorts existed: any name (the list starts after it); bounded like a name
    if (raw.length > 128) throw bad('too long');
    return { name: raw };
  }
  const m = /^([ut])\.([A-Za-z0-9_-]+)\.(.+)$/.exec(raw);
  if (!m || m[1] !== sort[0]) throw bad(`not a cursor of the ${sort} order`);
  const name = docNameSchema.safeParse(m[3]);
  if (!name.success) throw bad('not a cursor of this list');
  const key = m[2] as string;
  if (sort === 'updated') {
    if (!/^\d{1,16}$/.test(key)) throw bad('not a cursor of this list');
    const updatedAt = Number(key);
    if (!Number.isSafeInteger(updatedAt)) throw bad('not a cursor of this list');
    return { name: name.data, updatedAt };
  }
  const title = Buffer.from(key, 'base64url').toString('utf8');
  // what cursorOf encodes re-encodes the same: anything else was not made here
  if (Buffer.from(title, 'utf8').toString('base64url') !== key) throw bad('not a cursor of this list');
  return { name: name.data, title };
}
