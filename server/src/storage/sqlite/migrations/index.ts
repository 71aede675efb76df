import type { Migration } from '../SqliteDb.ts';
import { approvalMigrations } from './approvals.ts';
import { attendanceMigrations } from './attendance.ts';
import { authMigrations } from './auth.ts';
import { callMigrations } from './calls.ts';
import { chatMigrations } from './chat.ts';
import { coreMigrations } from './core.ts';
import { directoryMigrations } from './directory.ts';
import { docsMigrations } from './docs.ts';
import { mediaMigrations } from './media.ts';
import { recordingMigrations } from './recordings.ts';
import { reportMigrations } from './reports.ts';
import { securityMigrations } from './security.ts';
import { teleworkMigrations } from './telework.ts';

/**
 * Every SQLite migration, forward-only. Each area keeps its own file with its own id range:
 * 0001–0099 core, 0100 chat, 0200 documents (0210 titles, 0211 and 0212 the list orders' indexes, 0213 compacted states in their own table, 0214 and 0215 large versions and states in parts, 0216 the title order's key without case), 0300 media rooms, 0400 telework, 0500 the telework directory, 0600
 * approvals and telework requests, 0700
 * telework attendance, 0800 work reports, 0900 security (audit chain, data-leak policies), 1600 call history,
 * 1650 meeting recordings, 1710 sign-in.
 */
export const sqliteMigrations: Migration[] = [
  ...coreMigrations,
  ...chatMigrations,
  ...docsMigrations,
  ...mediaMigrations,
  ...teleworkMigrations,
  ...attendanceMigrations,
  ...directoryMigrations,
  ...approvalMigrations,
  ...reportMigrations,
  ...securityMigrations,
  ...callMigrations,
  ...recordingMigrations,
  ...authMigrations,
];
