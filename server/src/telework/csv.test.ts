/**
 * csv.ts: output opens safely in a spreadsheet (BOM, RFC 4180 quoting, formula starts defused) and
 * input is read per RFC 4180 with or without the BOM, with the line each record starts on, and
 * refused with its line when malformed or too long.
 */
import { describe, expect, it } from 'vitest';
import { CsvLimitError, CsvSyntaxError, csvCell, parseCsv, toCsv, UTF8_BOM } from './csv.ts';

describe('toCsv', () => {
  it('starts with the BOM, ends rows with CRLF and quotes what needs it', () => {
    const text = toCsv([
      ['sub', 'name', 'n', 'ok'],
      ['kim', '김, 민지', 3, true],
      ['lee', 'say "hi"\nthere', null, undefined],
    ]);
    expect(text.startsWith(UTF8_BOM)).toBe(true);
    expect(text).toBe(`${UTF8_BOM}sub,name,n,ok\r\nkim,"김, 민지",3,true\r\nlee,"say ""hi""\nthere",,\r\n`);
    expect(toCsv([])).toBe(UTF8_BOM);
  });

  it('defuses formula starts in text, not in numbers', () => {
    expect(csvCell('=cmd()')).toBe("'=cmd()");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=x')).toBe("'\t=x");
    expect(csvCell('\r=x')).toBe(`"'\r=x"`);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('')).toBe('');
  });

  it('round-trips through parseCsv (the defusing quote stays, as a spreadsheet shows it)', () => {
    const rows = [
      ['a', 'b,c', 'd"e', 'line\nbreak', ''],
      ['=1+1', '김민지', ' spaced ', 'x', 'y'],
    ];
    expect(parseCsv(toCsv(rows)).map((r) => r.cells)).toEqual([rows[0], ["'=1+1", '김민지', ' spaced ', 'x', 'y']]);
  });
});

describe('parseCsv', () => {
  it('reads LF and CRLF, with or without the BOM, and skips empty lines', () => {
    const plain = 'sub,name\nkim,Kim\r\n\nlee,Lee';
    const expected = [
      { line: 1, cells: ['sub', 'name'] },
      { line: 2, cells: ['kim', 'Kim'] },
      { line: 4, cells: ['lee', 'Lee'] },
    ];
    expect(parseCsv(plain)).toEqual(expected);
    expect(parseCsv(UTF8_BOM + plain)).toEqual(expected);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv(UTF8_BOM)).toEqual([]);
  });

  it('reads quoted cells with commas, quotes and line breaks, keeping each record’s first line', () => {
    const records = parseCsv('a,"b, c","say ""hi"""\n"two\nlines",x,\n"",last,"\r\n"\n');
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b, c', 'say "hi"'] },
      { line: 2, cells: ['two\nlines', 'x', ''] },
      { line: 4, cells: ['', 'last', '\r\n'] },
    ]);
  });

  it('refuses malformed text naming the line', () => {
    const refusal = (text: string) => {
      try {
        parseCsv(text);
      } catch (err) {
        expect(err).toBeInstanceOf(CsvSyntaxError);
        return { line: (err as CsvSyntaxError).line, message: (err as Error).message };
      }
      throw new Error(`accepted ${JSON.stringify(text)}`);
    };
    expect(refusal('a,b\n"open,c\nd')).toMatchObject({ line: 2, message: expect.stringMatching(/never closed/) });
    expect(refusal('a,b\nc,"d"e')).toMatchObject({ line: 2, message: expect.stringMatching(/after a closing quote/) });
    expect(refusal('a\nb\nc d"e')).toMatchObject({ line: 3, message: expect.stringMatching(/unquoted/) });
  });

  it('stops at maxRecords + 1 records', () => {
    expect(parseCsv('a\nb\nc', { maxRecords: 3 })).toHaveLength(3);
    expect(() => parseCsv('a\nb\nc\nd', { maxRecords: 3 })).toThrow(CsvLimitError);
  });
});
