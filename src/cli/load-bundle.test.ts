import { describe, expect, it } from 'vitest';
import { codeCacheFor } from './load-bundle.js';

describe('codeCacheFor', () => {
  it('gives the timed commands their own cache', () => {
    expect(codeCacheFor(['hash', 'user_123'])).toBe('hash');
    expect(codeCacheFor(['hash', '--batch'])).toBe('hash');
    expect(codeCacheFor(['token', 'sign', '--user-id', 'u'])).toBe('token-sign');
    expect(codeCacheFor(['token', 'verify', 'a.b.c'])).toBe('token-verify');
  });

  it('gives every other command line the general cache', () => {
    for (const argv of [[], ['--help'], ['token'], ['token', 'decode', 'a.b.c'], ['contacts', 'sync', 'x.csv'], ['--profile', 'prod', 'hash', 'u'], ['hashes'], ['token', 'signs']]) {
      expect(codeCacheFor(argv)).toBe('cli');
    }
  });
});
