/** How guessable a hand-written JWT secret is. */

/** Names people put in secrets by hand; a secret made only of these (and repeats) is guessable. */
const WELL_KNOWN_SECRET_WORDS = [
  'secret',
  'changeme',
  'change',
  'password',
  'passw0rd',
  'passwd',
  'example',
  'default',
  'placeholder',
  'qwerty',
  'letmein',
  'admin',
  'token',
  'moim',
  'test',
  'jwt',
  'key',
  'your',
  'here',
  'production',
  'prod',
  'development',
];

/**
 * Why a JWT secret is guessable, or undefined when it looks random enough: one character
 * repeated; nothing much left once well-known words (`secret`, `changeme`, …), sequences (`abc`,
 * `123`, `987`) and repeats are taken out; or little variety (few distinct characters, low Shannon
 * entropy per character — random base64 has ~5 bits, hex ~3.7 (a 32-digit one rarely below 2.9),
 * English words ~4, a short word repeated ~2.5).
 */
export function secretWeakness(secret: string): string | undefined {
  const chars = [...secret];
  if (chars.length === 0 || chars.every((c) => c === chars[0])) return 'it is one character repeated';
  let residue = secret.toLowerCase();
  for (const word of WELL_KNOWN_SECRET_WORDS) residue = residue.replaceAll(word, '');
  if (withoutRuns([...residue]).length < 16)
    return 'it is made of well-known words (like "secret", "changeme"), sequences (like "1234") or repeats';
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / chars.length) * Math.log2(n / chars.length);
  if (counts.size < 8 || bits < 2.75)
    return `it has too little variety (${counts.size} distinct characters, ${bits.toFixed(1)} bits of entropy per character)`;
  return undefined;
}

/** `chars` without runs of 3 or more equal or consecutive characters (`aaa`, `abc`, `321`). */
function withoutRuns(chars: string[]): string[] {
  const code = (i: number) => chars[i]!.codePointAt(0)!;
  const drop = new Array<boolean>(chars.length).fill(false);
  let i = 0;
  while (i < chars.length - 1) {
    const step = code(i + 1) - code(i);
    let j = i + 1;
    if (Math.abs(step) <= 1) while (j + 1 < chars.length && code(j + 1) - code(j) === step) j++;
    if (j - i + 1 >= 3) {
      for (let k = i; k <= j; k++) drop[k] = true;
      i = j + 1;
    } else i++;
  }
  return chars.filter((_, k) => !drop[k]);
}
