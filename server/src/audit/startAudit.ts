import path from 'node:path';
import type { TokenService } from '../auth/TokenService.ts';
import type { Config } from '../config.ts';
import type { HttpRouter } from '../http/HttpRouter.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import { AuditAnchors } from './AuditAnchors.ts';
import { defaultAuditKeyFile, loadAuditKey } from './auditKey.ts';
import { addAuditRoutes } from './auditRoutes.ts';

/** Where a node's audit key and anchor file are, from its configuration (also the verifier's defaults). */
export function auditFiles(config: Pick<Config, 'dataDir' | 'auditKeyFile' | 'auditAnchorFile'>): {
  keyFile: string;
  anchorFile: string;
} {
  return {
    keyFile: config.auditKeyFile ?? defaultAuditKeyFile(config.dataDir),
    anchorFile: config.auditAnchorFile ?? path.resolve(config.dataDir, 'audit-anchors.jsonl'),
  };
}

/** The audit chain's anchoring (signed heads, periodic and at close) and the admin export route. */
export function startAudit(d: {
  config: Config;
  audit: AuditStore;
  router: HttpRouter;
  tokens: TokenService;
  log: Logger;
}): AuditAnchors {
  const files = auditFiles(d.config);
  // a configured key must exist; the default one is generated on first start
  const key = loadAuditKey(files.keyFile, { create: d.config.auditKeyFile === undefined });
  const anchors = new AuditAnchors({
    store: d.audit,
    key,
    file: files.anchorFile,
    intervalMs: d.config.auditAnchorIntervalMs,
    log: d.log,
  });
  anchors.start();
  addAuditRoutes({ router: d.router, tokens: d.tokens, audit: d.audit, maxRows: d.config.auditExportMaxRows });
  d.log.info({ keyId: key.keyId, anchorFile: files.anchorFile }, 'audit chain anchored with key');
  return anchors;
}
