// Verify the audit log's hash chain and its signed anchors (npm run audit:verify).
// Reads the node's configuration from the environment (MOIM_DATA_DIR or DATABASE_URL +
// MOIM_DATABASE_SCHEMA, MOIM_AUDIT_KEY_FILE, MOIM_AUDIT_ANCHOR_FILE). Options:
//   --key <pem>       a key (private or public PEM) whose anchors are trusted; repeatable
//   --anchors <file>  an anchor file (JSON lines) to check besides the database's; repeatable
//   --json            print the report as JSON
// Exit status: 0 the chain is intact, 1 a problem was found (the first altered row is named), 2 it
// could not be checked.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAnchorLines } from '../server/src/audit/anchors.ts';
import { type AuditKey, loadAuditKey } from '../server/src/audit/auditKey.ts';
import { openAuditReader } from '../server/src/audit/openAuditReader.ts';
import { auditFiles } from '../server/src/audit/startAudit.ts';
import { verifyChain } from '../server/src/audit/verifyChain.ts';
import { loadConfig } from '../server/src/config.ts';
import type { AuditAnchor } from '../server/src/storage/AuditStore.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      key: { type: 'string', multiple: true },
      anchors: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig(process.env);
  const files = auditFiles(config);
  const keyFiles = values.key?.length ? values.key : [files.keyFile];
  const keys: AuditKey[] = keyFiles.map((f) => loadAuditKey(f));
  const anchorFiles = values.anchors?.length ? values.anchors : [files.anchorFile];
  const fileAnchors: AuditAnchor[] = [];
  const notes: string[] = [];
  for (const f of anchorFiles) {
    if (!existsSync(f)) {
      notes.push(`anchor file ${f} does not exist: only the database's anchors are checked`);
      continue;
    }
    const parsed = parseAnchorLines(readFileSync(f, 'utf8'));
    fileAnchors.push(...parsed.anchors);
    notes.push(...parsed.problems);
  }
  const reader = await openAuditReader(config);
  try {
    const report = await verifyChain(reader.store, { keys, fileAnchors });
    if (values.json) console.log(JSON.stringify({ ...report, notes }, null, 2));
    else {
      for (const n of notes) console.log(`note: ${n}`);
      console.log(
        `audit chain: ${report.rows} rows (seq 1–${report.lastSeq}), ${report.anchorsChecked} anchors checked, ${report.unchained} rows from before the chain`,
      );
      if (report.ok) console.log('OK: every row matches its hash and link; every anchor is signed and matches');
      for (const p of report.problems) console.log(`FAIL [${p.kind}] ${p.message}`);
      const first = report.problems[0];
      if (first && first.id !== undefined) console.log(`first altered row: seq ${first.seq}, id ${first.id}`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await reader.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`audit:verify could not check the chain: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
