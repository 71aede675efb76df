import type { Migration } from '../SqliteDb.ts';

/** Shared documents (id range 0200). */
export const docsMigrations: Migration[] = [
  {
    id: '0200_docs',
    sql: `CREATE TABLE docs (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      export_allowed INTEGER NOT NULL DEFAULT 1,
      state BLOB,
      state_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE doc_updates (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      doc_name TEXT NOT NULL,
      data BLOB NOT NULL
    );
    CREATE INDEX doc_updates_doc ON doc_updates (doc_name, id);
    CREATE TABLE doc_versions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      doc_name TEXT NOT NULL,
      label TEXT NOT NULL,
      auto INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      state BLOB NOT NULL
    );
    CREATE INDEX doc_versions_doc ON doc_versions (doc_name, id);`,
  },
  {
    // issue 11: every organisation has its own namespace of documents. A document is keyed by
    // (org, name); the documents made before this belong to 'default', the org of tokens that name
    // none. SQLite cannot change a primary key in place: the record table is rebuilt.
    id: '0201_docs_org',
    sql: `CREATE TABLE docs_by_org (
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      export_allowed INTEGER NOT NULL DEFAULT 1,
      state BLOB,
      state_seq INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (org, name)
    );
    INSERT INTO docs_by_org (org, name, owner, created_at, updated_at, export_allowed, state, state_seq)
      SELECT 'default', name, owner, created_at, updated_at, export_allowed, state, state_seq FROM docs;
    DROP TABLE docs;
    ALTER TABLE docs_by_org RENAME TO docs;
    ALTER TABLE doc_updates ADD COLUMN doc_org TEXT NOT NULL DEFAULT 'default';
    DROP INDEX doc_updates_doc;
    CREATE INDEX doc_updates_doc ON doc_updates (doc_org, doc_name, id);
    ALTER TABLE doc_versions ADD COLUMN doc_org TEXT NOT NULL DEFAULT 'default';
    DROP INDEX doc_versions_doc;
    CREATE INDEX doc_versions_doc ON doc_versions (doc_org, doc_name, id);`,
  },
  {
    // issue 15: a document's title is stored data (free text, any language), not derived from its
    // name; who set it first and last, and when
    id: '0210_doc_titles',
    sql: `CREATE TABLE doc_titles (
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      title TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, name)
    );`,
  },
  {
    // the document list's default order is most recently changed first: a page walks this index
    id: '0211_docs_org_updated',
    sql: 'CREATE INDEX docs_org_updated ON docs (org, updated_at DESC, name);',
  },
  {
    // the list's title order: the title, else the name, kept on the document itself (set with the
    // title, in the same transaction) so a page walks an index instead of sorting the organisation
    id: '0212_docs_list_title',
    sql: `ALTER TABLE docs ADD COLUMN list_title TEXT NOT NULL DEFAULT '';
    UPDATE docs SET list_title = COALESCE((SELECT t.title FROM doc_titles t WHERE t.org = docs.org AND t.name = docs.name), name);
    CREATE INDEX docs_org_list_title ON docs (org, list_title, name);`,
  },
  {
    // a document's compacted state in its own table: on the document's row every append's
    // `updated_at` touch rewrote the whole record, state included (a 10 MB document: ~10 ms of
    // commit per edit), and reading the columns after it walked its overflow pages
    id: '0213_doc_states',
    sql: `CREATE TABLE doc_states (
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      state BLOB NOT NULL,
      PRIMARY KEY (org, name)
    );
    INSERT INTO doc_states (org, name, state) SELECT org, name, state FROM docs WHERE state IS NOT NULL;
    ALTER TABLE docs DROP COLUMN state;`,
  },
  {
    // issue 18: a large version (the automatic one of a multi-MB document) is written in parts of
    // its own transactions, so the appends of every other document commit between them instead of
    // waiting behind one long transaction. `parts`: 0 the state is in the row; n > 0 it is in n rows
    // of doc_version_parts (the row's state is empty); -1 still being written (never listed, removed
    // when the store opens after a crash). `parts` is the row's last column, after the state: a
    // query that reads it walks the state's overflow pages, so the list finds the rows being
    // written through the partial index instead (nearly always empty)
    id: '0214_doc_version_parts',
    sql: `ALTER TABLE doc_versions ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX doc_versions_writing ON doc_versions (id) WHERE parts < 0;
    CREATE TABLE doc_version_parts (
      version_id INTEGER NOT NULL,
      n INTEGER NOT NULL,
      data BLOB NOT NULL,
      PRIMARY KEY (version_id, n)
    );`,
  },
  {
    // issue 18: a large compacted state likewise, in parts of its own transactions under a new
    // generation `gen` that the compaction's last transaction switches to (with the seq check and
    // the merged updates' removal, as before). `parts`: 0 the state is in the row; n > 0 it is the
    // n rows of doc_state_parts of the row's `gen` (the row's state is empty). Parts of any other
    // generation are a compaction's that lost or was cut short: removed when the store opens
    id: '0215_doc_state_parts',
    sql: `ALTER TABLE doc_states ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE doc_states ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE doc_state_parts (
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      gen INTEGER NOT NULL,
      n INTEGER NOT NULL,
      data BLOB NOT NULL,
      PRIMARY KEY (org, name, gen, n)
    );`,
  },
  {
    // the list's title order ignores the case of ASCII letters (apple, Banana, cherry; it put every
    // capital first): the key is folded as PostgreSQL's lower() under "C" folds it
    id: '0216_docs_list_title_fold',
    sql: 'UPDATE docs SET list_title = lower(list_title);',
  },
];
