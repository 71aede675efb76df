import type { Migration } from '../SqliteDb.ts';
import { chatMigrations } from './chat.ts';
import { coreMigrations } from './core.ts';
import { docsMigrations } from './docs.ts';
import { mediaMigrations } from './media.ts';
import { teleworkMigrations } from './telework.ts';

/**
 * Every SQLite migration, forward-only. Each area keeps its own file with its own id range:
 * 0001–0099 core, 0100 chat, 0200 documents, 0300 media rooms, 0400 telework.
 */
export const sqliteMigrations: Migration[] = [
  ...coreMigrations,
  ...chatMigrations,
  ...docsMigrations,
  ...mediaMigrations,
  ...teleworkMigrations,
];
