/**
 * What a document is called. Titles are stored data (issue 15): free text in any language kept by
 * the server beside the document's name (its id in URLs, `d-<random>` for documents created by
 * title) and returned in every `DocInfo`. A document made before titles were stored carries its
 * title in a `t.` name (the server decodes it too); a meeting's notes (`room-<roomId>-notes`) are
 * titled with the meeting's name; any other document without a title shows its name.
 */
import { DOC_TITLE_MAX, docTitleProblem, legacyDocTitle, normalizeDocTitle, roomNotesDocName } from '@moim/client-sdk';

const NOTES_RE = /^room-(.+)-notes$/;
/** Longest title (characters) the forms accept; the server checks the same. */
export const TITLE_MAX = DOC_TITLE_MAX;

/** A title as typed, normalised (NFC, trimmed), or undefined when the server would refuse it. */
export function titleFromInput(raw: string): string | undefined {
  const title = normalizeDocTitle(raw);
  return docTitleProblem(title) === undefined ? title : undefined;
}

/** What a document is called in lists and headings (meeting notes: `meetingName(roomId)`). */
export function docTitle(
  doc: { name: string; title?: string | undefined },
  meetingName?: (roomId: string) => string | undefined,
): string {
  const notes = notesRoom(doc.name);
  if (notes !== undefined && meetingName) {
    const meeting = meetingName(notes);
    if (meeting !== undefined) return meeting;
  }
  return doc.title ?? legacyDocTitle(doc.name) ?? doc.name;
}

/** The room a meeting's notes belong to (undefined for other documents). */
export function notesRoom(name: string): string | undefined {
  const roomId = NOTES_RE.exec(name)?.[1];
  return roomId !== undefined && roomNotesDocName(roomId) === name ? roomId : undefined;
}
