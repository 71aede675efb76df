import type { PgMigration } from '../PgDb.ts';
import { chatMigrations } from './chat.ts';
import { coreMigrations } from './core.ts';
import { docsMigrations } from './docs.ts';
import { teleworkMigrations } from './telework.ts';

/**
 * Every PostgreSQL migration, forward-only, with the SQLite ids' ranges: 0001–0099 core (audit,
 * presence, rooms, blobs), 0100 chat, 0200 documents, 0400 telework.
 */
export const pgMigrations: PgMigration[] = [
  ...coreMigrations,
  ...chatMigrations,
  ...docsMigrations,
  ...teleworkMigrations,
];
