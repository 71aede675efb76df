/**
 * Finds swallowed errors in TypeScript source with the compiler's syntax tree (not a text search):
 *
 * - a rejection handler that does nothing: `.catch(fn)` or `.then(onFulfilled, fn)` where `fn` is an
 *   arrow function or function expression whose body is empty (`{}`, or only `return;`) or that
 *   returns `undefined` / `void 0`;
 * - an empty `catch {}` block of a `try` statement.
 *
 * Such a spot is allowed when a comment says why ignoring is right: a non-empty comment inside the
 * empty body, or immediately before it (on the line just above the line where the statement, the
 * `catch` call or the `catch` clause starts, or in front of the handler itself).
 */
import ts from 'typescript';

export interface SwallowedError {
  file: string;
  /** 1-based line of the `catch` / `then` name or of the `catch` clause. */
  line: number;
  kind: 'rejection-handler' | 'empty-catch-block';
  text: string;
}

export function findSwallowedErrors(file: string, source: string): SwallowedError[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const comments = collectComments(sf);
  const found: SwallowedError[] = [];

  const report = (kind: SwallowedError['kind'], at: number, node: ts.Node) => {
    const line = sf.getLineAndCharacterOfPosition(at).line + 1;
    found.push({ file, line, kind, text: node.getText(sf).split('\n')[0]!.slice(0, 100) });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const name = node.expression.name.text;
      const handler = name === 'catch' ? node.arguments[0] : name === 'then' ? node.arguments[1] : undefined;
      if (handler && doesNothing(handler)) {
        const nameStart = node.expression.name.getStart(sf);
        const explained =
          hasCommentWithin(comments, handler.getStart(sf), handler.end) ||
          hasCommentWithin(comments, node.expression.expression.end, nameStart) ||
          hasCommentWithin(comments, handler.pos, handler.getStart(sf)) ||
          commentJustAbove(sf, comments, nameStart) ||
          commentJustAbove(sf, comments, statementOf(node).getStart(sf));
        if (!explained) report('rejection-handler', nameStart, node);
      }
    }
    if (ts.isCatchClause(node) && node.block.statements.length === 0) {
      const tryStatement = node.parent;
      const catchStart = node.getStart(sf);
      const explained =
        hasCommentWithin(comments, node.block.getStart(sf), node.block.end) ||
        hasCommentWithin(comments, tryStatement.tryBlock.end, catchStart) ||
        commentJustAbove(sf, comments, catchStart) ||
        commentJustAbove(sf, comments, tryStatement.getStart(sf));
      if (!explained) report('empty-catch-block', catchStart, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** An arrow function / function expression with an empty body, or one that only yields undefined. */
function doesNothing(node: ts.Node): boolean {
  let fn = node;
  while (ts.isParenthesizedExpression(fn)) fn = fn.expression;
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return false;
  const body = fn.body;
  if (ts.isBlock(body)) return body.statements.every(isNoOpStatement);
  return isUndefinedValue(body);
}

function isNoOpStatement(s: ts.Statement): boolean {
  if (ts.isEmptyStatement(s)) return true;
  return ts.isReturnStatement(s) && (s.expression === undefined || isUndefinedValue(s.expression));
}

function isUndefinedValue(e: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isIdentifier(e) && e.text === 'undefined') return true;
  return ts.isVoidExpression(e) && ts.isLiteralExpression(e.expression);
}

/**
 * The statement a node belongs to, where a comment explaining it would sit; inside an arrow function
 * with an expression body, that body (a comment before a whole call of many lines says nothing about
 * a handler deep inside one of its callbacks).
 */
function statementOf(node: ts.Node): ts.Node {
  let n = node;
  while (n.parent && !ts.isStatement(n) && !ts.isClassElement(n) && !ts.isSourceFile(n.parent)) {
    if (ts.isArrowFunction(n.parent) && n.parent.body === n) return n;
    n = n.parent;
  }
  return n;
}

interface Comment {
  pos: number;
  end: number;
  text: string;
}

/** Every comment of the file (from the trivia around each token), with its text. */
function collectComments(sf: ts.SourceFile): Comment[] {
  const text = sf.getFullText();
  const byPos = new Map<number, Comment>();
  const add = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) if (!byPos.has(r.pos)) byPos.set(r.pos, { ...r, text: text.slice(r.pos, r.end) });
  };
  const walk = (node: ts.Node): void => {
    add(ts.getLeadingCommentRanges(text, node.pos));
    add(ts.getTrailingCommentRanges(text, node.end));
    for (const child of node.getChildren(sf)) walk(child);
  };
  walk(sf);
  return [...byPos.values()].filter((c) => hasWords(c.text)).sort((a, b) => a.pos - b.pos);
}

/** A comment with something in it besides its delimiters. */
function hasWords(comment: string): boolean {
  return (
    comment
      .replace(/^\/\/+|^\/\*+|\*+\/$/g, '')
      .replace(/^\s*\*/gm, '')
      .trim().length > 0
  );
}

function hasCommentWithin(comments: Comment[], from: number, to: number): boolean {
  return comments.some((c) => c.pos >= from && c.end <= to);
}

/**
 * A comment on its own line(s) that ends on the line just above the line holding `pos`, and that
 * line starts (after indentation) with what the comment describes.
 */
function commentJustAbove(sf: ts.SourceFile, comments: Comment[], pos: number): boolean {
  const text = sf.getFullText();
  const line = sf.getLineAndCharacterOfPosition(pos).line;
  if (line === 0) return false;
  const lineStart = sf.getPositionOfLineAndCharacter(line, 0);
  const firstToken = lineStart + (text.slice(lineStart).match(/^[ \t]*/)?.[0].length ?? 0);
  return comments.some((c) => {
    if (sf.getLineAndCharacterOfPosition(c.end).line !== line - 1) return false;
    if (text.slice(c.end, firstToken).trim() !== '') return false;
    const cLine = sf.getLineAndCharacterOfPosition(c.pos).line;
    return text.slice(sf.getPositionOfLineAndCharacter(cLine, 0), c.pos).trim() === '';
  });
}
