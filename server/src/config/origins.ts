import { ConfigError, type Parser } from './parse.ts';

/**
 * A comma-separated list of web origins (`https://moim.example.go.kr`, `http://localhost:5173`):
 * scheme, host and port only, no path. Each is normalised through `new URL(...).origin`.
 */
export function originList(): Parser<string[]> {
  const parse = (raw: string | undefined, name: string): string[] => {
    if (raw === undefined || raw.trim() === '') return [];
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item) => {
        let url: URL;
        try {
          url = new URL(item);
        } catch {
          throw new ConfigError(name, `${JSON.stringify(item)} is not an origin (https://host[:port])`);
        }
        if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/$/, ''))
          throw new ConfigError(name, `${JSON.stringify(item)} is not an origin (https://host[:port], no path)`);
        return url.origin;
      });
  };
  return Object.assign(parse, { defaultText: '(the public URL and this node only)' });
}
