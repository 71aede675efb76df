/**
 * Document titles: free text in any language, stored per document beside its name (the name is the
 * document's id in URLs and on `/yjs`). Zod-free so the browser's client entry can check a title
 * before sending it; the server checks again at its edge (`INVALID_TITLE`).
 */

/** Longest title, in characters (code points) after normalising. */
export const DOC_TITLE_MAX = 200;

/**
 * Characters a title may not hold: C0/C1 controls (tab and line breaks included), the line and
 * paragraph separators, and the bidirectional embedding, override and isolate marks (they make a
 * title read differently from what it holds).
 */
const FORBIDDEN_RE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** The stored form of a title: NFC, trimmed (does not check it; see `docTitleProblem`). */
export function normalizeDocTitle(raw: string): string {
  return raw.normalize('NFC').trim();
}

/** Why a (normalised) title cannot be stored, or undefined when it can. */
export function docTitleProblem(title: string): string | undefined {
  if (title.length === 0) return 'title: empty';
  if ([...title].length > DOC_TITLE_MAX) return `title: at most ${DOC_TITLE_MAX} characters`;
  if (FORBIDDEN_RE.test(title)) return 'title: control characters are not allowed';
  return undefined;
}

/** Names of the first titled documents: `t.` + base64url of the title's UTF-8 (the web app made them). */
const LEGACY_PREFIX = 't.';

/**
 * The title a document made before titles were stored carries in its name (`t.` + base64url of
 * UTF-8), or undefined when the name is not such a name.
 */
export function legacyDocTitle(name: string): string | undefined {
  if (!name.startsWith(LEGACY_PREFIX)) return undefined;
  const s = name.slice(LEGACY_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(s) || s.length % 4 === 1) return undefined;
  const b64 = s
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(s.length / 4) * 4, '=');
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    // not base64 after all: the name is its own title
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // not UTF-8: the name is its own title
    return undefined;
  }
  return docTitleProblem(text) === undefined ? text : undefined;
}
