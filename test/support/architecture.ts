import path from 'node:path';
import ts from 'typescript';

/**
 * The import rules of docs/ARCHITECTURE.md, checked on the syntax tree (TypeScript compiler API).
 *
 * Packages: web-demo → client-sdk → protocol ← server → sfu → protocol. Inside server/src, the
 * services never import the edge (gateway/, http/) except the allowances named in
 * SERVICE_EDGE_ALLOWED, and storage/ imports no service.
 *
 * Both value and type imports count for every rule: a type import still couples the code to the
 * other module (and `import type` from the edge is how a service would start depending on it). The
 * allowances are per importing file and imported file, whatever the kind of import.
 */

/** One import or re-export of a file: `import …`, `export … from`, `import('…')`, `import('…').T`. */
export interface ImportRef {
  spec: string;
  line: number;
  /** `import type`, `export type`, all-`type` named bindings, or an `import('…')` type query. */
  typeOnly: boolean;
}

export function importsOf(fileName: string, source: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const add = (literal: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(literal)) return;
    const line = sf.getLineAndCharacterOfPosition(literal.getStart(sf)).line + 1;
    out.push({ spec: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allNamedAreTypes =
        !!clause &&
        !clause.name &&
        !!bindings &&
        ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 &&
        bindings.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || allNamedAreTypes));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const clause = node.exportClause;
      const allNamedAreTypes =
        !!clause &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, node.isTypeOnly || allNamedAreTypes);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export const PACKAGES = ['protocol', 'sfu', 'server', 'client-sdk', 'web-demo'] as const;
export type Package = (typeof PACKAGES)[number];

/** Which of our packages each package may import (itself always). */
export const PACKAGE_DEPS: Record<Package, readonly Package[]> = {
  protocol: [],
  sfu: ['protocol'],
  server: ['protocol', 'sfu'],
  'client-sdk': ['protocol'],
  'web-demo': ['client-sdk', 'protocol'],
};

/** Service folders of server/src: they hold the logic and never depend on the edge. */
export const SERVICES = ['presence', 'chat', 'docs', 'media', 'storage', 'auth', 'telework', 'calls'] as const;
export const EDGE = ['gateway', 'http'] as const;

/**
 * The only imports of the edge a service may make (importing file → imported file, relative to
 * server/src). A service's HTTP routes register themselves on the router, and the docs WebSocket
 * endpoint registers on the upgrade router.
 */
export const SERVICE_EDGE_ALLOWED: ReadonlyArray<readonly [string, string]> = [
  ['chat/attachmentRoutes.ts', 'http/HttpRouter.ts'],
  ['docs/routes.ts', 'http/HttpRouter.ts'],
  ['docs/YjsEndpoint.ts', 'http/Upgrades.ts'],
  ['telework/routes.ts', 'http/HttpRouter.ts'],
  ['telework/routeKit.ts', 'http/HttpRouter.ts'],
  ['telework/directoryRoutes.ts', 'http/HttpRouter.ts'],
  ['telework/attendanceRoutes.ts', 'http/HttpRouter.ts'],
  ['telework/approvalRoutes.ts', 'http/HttpRouter.ts'],
  ['telework/reportRoutes.ts', 'http/HttpRouter.ts'],
  ['telework/dashboardRoutes.ts', 'http/HttpRouter.ts'],
  ['telework/requestRoutes.ts', 'http/HttpRouter.ts'],
  ['calls/callRoutes.ts', 'http/HttpRouter.ts'],
  ['auth/authRoutes.ts', 'http/HttpRouter.ts'],
];

export interface Violation {
  file: string;
  line: number;
  spec: string;
  typeOnly: boolean;
  rule: 'package' | 'service-edge' | 'storage-service';
}

/** The package of a repository-relative path (`server/src/app.ts` → `server`), if one of ours. */
function packageOfPath(rel: string): Package | undefined {
  const first = rel.split('/')[0];
  return PACKAGES.find((p) => p === first);
}

/** The package a bare specifier names (`@moim/protocol/client` → `protocol`), if one of ours. */
function packageOfSpec(spec: string): Package | undefined {
  const m = /^@moim\/([^/]+)/.exec(spec);
  return m ? PACKAGES.find((p) => p === m[1]) : undefined;
}

/** Checks files given as repository-relative paths (forward slashes) and their source text. */
export function checkArchitecture(files: ReadonlyArray<{ path: string; source: string }>): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const from = packageOfPath(file.path);
    if (!from) continue;
    const serverRel = file.path.startsWith('server/src/') ? file.path.slice('server/src/'.length) : undefined;
    const fromFolder = serverRel?.includes('/') ? serverRel.split('/')[0] : undefined;
    for (const ref of importsOf(file.path, file.source)) {
      const flag = (rule: Violation['rule']) =>
        violations.push({ file: file.path, line: ref.line, spec: ref.spec, typeOnly: ref.typeOnly, rule });
      let target: string | undefined;
      let to: Package | undefined;
      if (ref.spec.startsWith('.')) {
        target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), ref.spec));
        to = packageOfPath(target);
      } else {
        to = packageOfSpec(ref.spec);
      }
      if (to && to !== from && !PACKAGE_DEPS[from].includes(to)) {
        flag('package');
        continue;
      }
      if (!fromFolder || !target?.startsWith('server/src/')) continue;
      const targetRel = target.slice('server/src/'.length);
      const toFolder = targetRel.includes('/') ? targetRel.split('/')[0] : undefined;
      if (!toFolder || toFolder === fromFolder) continue;
      const isService = (f: string) => (SERVICES as readonly string[]).includes(f);
      if (
        isService(fromFolder) &&
        (EDGE as readonly string[]).includes(toFolder) &&
        !SERVICE_EDGE_ALLOWED.some(([a, b]) => a === serverRel && b === targetRel)
      )
        flag('service-edge');
      else if (fromFolder === 'storage' && isService(toFolder)) flag('storage-service');
    }
  }
  return violations;
}
