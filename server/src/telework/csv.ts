/**
 * CSV in and out for telework's imports and exports (the directory, the manager's view, reports).
 * Output is what spreadsheet software opens safely: UTF-8 with a byte-order mark (without it,
 * Excel reads Korean names as mojibake), CRLF rows, RFC 4180 quoting, and a `'` before any text
 * cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return, so a name like `=cmd()`
 * is shown as text and never run as a formula (OWASP "CSV injection"). Input is RFC 4180 with or
 * without the BOM, LF or CRLF; every record keeps the line it starts on, so a refusal can name it.
 */

/** The UTF-8 byte-order mark, as the first character of a decoded text. */
export const UTF8_BOM = '\uFEFF';

/** The `content-type` of an answer made by `toCsv`. */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** What a cell may hold: text is escaped and quoted as needed; numbers and booleans are written as they are. */
export type CsvCell = string | number | boolean | null | undefined;

/** One record of a parsed CSV text and the (1-based) line it starts on. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/** The text is not valid CSV; `line` is where the problem is (1-based). */
export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

/** The text holds more records than the caller allows (`parseCsv`'s `maxRecords`). */
export class CsvLimitError extends Error {
  readonly maxRecords: number;
  constructor(maxRecords: number) {
    super(`more than ${maxRecords} records`);
    this.name = 'CsvLimitError';
    this.maxRecords = maxRecords;
  }
}

const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell as it goes into a CSV row: formula starts defused, quoted when it holds `"` `,` CR or LF. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = FORMULA_START.has(value.charAt(0)) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole CSV text: the BOM, then each row's cells joined by `,`, each row ended by CRLF. */
export function toCsv(rows: Iterable<readonly CsvCell[]>): string {
  let out = UTF8_BOM;
  for (const row of rows) out += `${row.map(csvCell).join(',')}\r\n`;
  return out;
}

/**
 * Parse a CSV text (a leading BOM is skipped). Empty lines are skipped; every other line is a
 * record, a quoted cell may span lines. Throws CsvSyntaxError for an unclosed quote or text
 * after a closing quote, CsvLimitError as soon as there are more than `maxRecords` records.
 */
export function parseCsv(text: string, opts: { maxRecords?: number } = {}): CsvRecord[] {
  const max = opts.maxRecords ?? Number.POSITIVE_INFINITY;
  const records: CsvRecord[] = [];
  let i = text.startsWith(UTF8_BOM) ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    // an empty line (LF or CRLF) is no record
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        const opened = line;
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(opened, 'a quoted cell is never closed');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        const next = text[i];
        if (i < n && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n'))
          throw new CsvSyntaxError(line, 'text after a closing quote (write "" for a quote inside a quoted cell)');
      } else {
        const from = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted cell (quote the whole cell)');
          i++;
        }
        cell = text.slice(from, i);
      }
      cells.push(cell);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      // end of the record: CRLF, LF or the end of the text
      if (i < n) {
        i += text[i] === '\r' ? 2 : 1;
        line++;
      }
      break;
    }
    if (records.length >= max) throw new CsvLimitError(max);
    records.push({ line: start, cells });
  }
  return records;
}
