import type { PgMigration } from '../PgDb.ts';
import { approvalMigrations } from './approvals.ts';
import { attendanceMigrations } from './attendance.ts';
import { authMigrations } from './auth.ts';
import { callMigrations } from './calls.ts';
import { chatMigrations } from './chat.ts';
import { coreMigrations } from './core.ts';
import { directoryMigrations } from './directory.ts';
import { docsMigrations } from './docs.ts';
import { recordingMigrations } from './recordings.ts';
import { reportMigrations } from './reports.ts';
import { securityMigrations } from './security.ts';
import { teleworkMigrations } from './telework.ts';

/**
 * Every PostgreSQL migration, forward-only, with the SQLite ids' ranges: 0001–0099 core (audit,
 * presence, rooms, blobs), 0100 chat, 0200 documents (0210 titles, 0212 and 0216 the title order's key), 0400 telework, 0500 the telework directory, 0600
 * approvals and telework requests, 0700
 * telework attendance, 0800 work reports, 0900 security (audit chain, data-leak policies), 1600 call history,
 * 1650 meeting recordings, 1710 sign-in.
 */
export const pgMigrations: PgMigration[] = [
  ...coreMigrations,
  ...chatMigrations,
  ...docsMigrations,
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
