import { describe, expect, it } from 'vitest';
import { boundUrlFor } from './boundUrl.ts';

describe('boundUrlFor', () => {
  it('names localhost where localhost reaches the server', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::'])
      expect(boundUrlFor(host, 3000)).toBe('http://localhost:3000');
  });
  it('names the address where localhost would not reach it', () => {
    expect(boundUrlFor('127.0.0.2', 3000)).toBe('http://127.0.0.2:3000');
    expect(boundUrlFor('10.1.2.3', 80)).toBe('http://10.1.2.3:80');
    expect(boundUrlFor('fd00::5', 8080)).toBe('http://[fd00::5]:8080');
    expect(boundUrlFor('moim.example.org', 443)).toBe('http://moim.example.org:443');
  });
});
