/** Names that find `Object.prototype` members in a plain object (every field that names something gets them). */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'prototype',
] as const;

/** Percent-escapes that decodeURIComponent refuses (invalid hex, bad UTF-8, overlong, truncated, a lone surrogate). */
export const MALFORMED_ESCAPES = ['%ff', '%ZZ', '%c0%ae', '%', '%e0%a4%a', '%ED%A0%80'] as const;
