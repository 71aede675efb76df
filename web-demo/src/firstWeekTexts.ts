/**
 * Texts of the everyday features (finding channels, names instead of ids, notifications,
 * invitations, the participants panel), in English and Korean. Spread into i18n.ts's tables;
 * plural forms are `<key>_one` / `<key>_other` (see plural.ts).
 */
export const firstWeekEn = {
  docTitle: 'Title',
  notesOf: 'Notes: {name}',
  notesUnnamed: 'Meeting notes',
  attached: 'Attached: {name}',
  removeAttachment: 'Remove the attachment',
  replies_one: '{n} reply',
  replies_other: '{n} replies',
  participants_one: '{n} participant',
  participants_other: '{n} participants',
};

export const firstWeekKo: Record<keyof typeof firstWeekEn, string> = {
  docTitle: '제목',
  notesOf: '회의 노트: {name}',
  notesUnnamed: '회의 노트',
  attached: '첨부: {name}',
  removeAttachment: '첨부 취소',
  replies_one: '답글 {n}개',
  replies_other: '답글 {n}개',
  participants_one: '참여자 {n}명',
  participants_other: '참여자 {n}명',
};
