/**
 * The one query of a document list page, for both SQL backends (only placeholders and the name set
 * differ): `updated` = `updated_at` descending, `title` = the stored title (else the
 * name, A–Z folded to lower case) in code point order, `name` = the name; ties by name ascending, so each order is total and a
 * page starts after its previous page's last row (keyset paging: rows inserted meanwhile neither
 * repeat nor shift a page). Each order walks an index: `docs_org_updated`, `docs_org_list_title`
 * (`list_title`, the title else the name, kept on the document by the title store), the key.
 */
import type { DocListQuery } from './DocStore.ts';
import { DOC_COLUMNS } from './sqlRows.ts';

/** Most rows one page query returns. */
export const DOC_LIST_MAX = 1000;

export type SqlDialect = 'sqlite' | 'pg';

/** The SQL and parameters of `query` (rows: `DocRow` and, in `title` order, `list_title`). */
export function docListSql(query: DocListQuery, dialect: SqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return dialect === 'pg' ? `$${params.length}` : '?';
  };
  const order = query.order ?? 'name';
  const cols = DOC_COLUMNS.split(', ')
    .map((c) => `d.${c}`)
    .join(', ');
  // code point order on both: SQLite compares UTF-8 bytes (BINARY), PostgreSQL's column is COLLATE "C";
  // the key's A–Z are folded to lower case where it is written (lower(), ASCII-only on both)
  const titleKey = 'd.list_title';
  const where = [`d.org = ${p(query.org)}`];
  if (query.names) {
    const names = [...new Set(query.names)].slice(0, DOC_LIST_MAX);
    where.push(dialect === 'pg' ? `d.name = ANY(${p(names)}::text[])` : `d.name IN (${names.map(p).join(', ')})`);
  }
  const after = query.after;
  if (order === 'name' && after) where.push(`d.name > ${p(after.name)}`);
  if (order === 'updated' && after) {
    if (after.updatedAt === undefined) throw new Error('docListSql: an `updated` page starts after an updatedAt');
    const at = p(after.updatedAt);
    const at2 = p(after.updatedAt);
    where.push(`(d.updated_at < ${at} OR (d.updated_at = ${at2} AND d.name > ${p(after.name)}))`);
  }
  if (order === 'title' && after) {
    if (after.title === undefined) throw new Error('docListSql: a `title` page starts after a title');
    const k = p(after.title);
    const k2 = p(after.title);
    where.push(`(${titleKey} > ${k} OR (${titleKey} = ${k2} AND d.name > ${p(after.name)}))`);
  }
  const limit = p(Math.min(Math.max(query.limit, 1), DOC_LIST_MAX));
  const orderBy =
    order === 'updated' ? 'd.updated_at DESC, d.name' : order === 'title' ? `${titleKey}, d.name` : 'd.name';
  const listed = order === 'title' ? `${cols}, ${titleKey}` : cols;
  const sql = `SELECT ${listed} FROM docs d WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${limit}`;
  return { sql, params };
}
