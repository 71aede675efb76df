/**
 * Document titles are free text in any language; the document's name (its id in URLs and on the
 * server, `[A-Za-z0-9][\w.:-]*`, at most 128) is derived from the title. A title that already is
 * a valid name is its own name; any other ("주간 보고") is `t.` + the base64url of its UTF-8, so
 * everyone's list shows the same title without a lookup. A meeting's notes
 * (`room-<roomId>-notes`) are titled with the meeting's name.
 */
import { roomNotesDocName } from '@moim/client-sdk';

const NAME_RE = /^[A-Za-z0-9][\w.:-]{0,127}$/;
const TITLED = 't.';
const NOTES_RE = /^room-(.+)-notes$/;
/** Longest title (characters) the form accepts; longer titles are cut to fit a name. */
export const TITLE_MAX = 100;

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const b64 = s
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(s.length / 4) * 4, '=');
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    // not one of ours: the name is shown as it is
    return undefined;
  }
}

/** The document name for a title (undefined for a title that is only spaces). */
export function docNameFor(title: string): string | undefined {
  let text = title.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (!text) return undefined;
  if (NAME_RE.test(text) && !text.startsWith(TITLED)) return text;
  // cut by characters (never inside one) until the encoded name fits
  let chars = [...text];
  for (;;) {
    const name = TITLED + toBase64Url(new TextEncoder().encode(text));
    if (name.length <= 128) return name;
    chars = chars.slice(0, -1);
    text = chars.join('').trimEnd();
  }
}

/** What a document is called in lists and headings (meeting notes: `notesOf(meeting name)`). */
export function docTitle(name: string, meetingName?: (roomId: string) => string | undefined): string {
  if (name.startsWith(TITLED)) return fromBase64Url(name.slice(TITLED.length)) ?? name;
  const notes = NOTES_RE.exec(name);
  if (notes?.[1] && meetingName) return meetingName(notes[1]) ?? name;
  return name;
}

/** The room a meeting's notes belong to (undefined for other documents). */
export function notesRoom(name: string): string | undefined {
  const roomId = NOTES_RE.exec(name)?.[1];
  return roomId !== undefined && roomNotesDocName(roomId) === name ? roomId : undefined;
}
