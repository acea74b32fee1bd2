import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { looksLikeApiKey, secretCandidates } from './secret-candidates.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const find = (cs: ReturnType<typeof secretCandidates>, label: string) => cs.find((c) => c.label === label);

describe('secretCandidates', () => {
  it('offers whitespace, quote and encoding variants of a raw secret, without the secret itself', () => {
    const cs = secretCandidates({ secret: 'c2VjcmV0' });
    const keys = cs.map((c) => hex(c.bytes));
    expect(keys).not.toContain(Buffer.from('c2VjcmV0').toString('hex'));
    expect(new Set(keys).size).toBe(keys.length);
    expect(Buffer.from(find(cs, 'the secret with a trailing "\\n"')!.bytes).toString()).toBe('c2VjcmV0\n');
    expect(find(cs, 'the secret with a trailing "\\n"')!.cause).toBe('SECRET_WHITESPACE');
    expect(Buffer.from(find(cs, "the secret's base64-decoded bytes")!.bytes).toString()).toBe('secret');
    expect(find(cs, "the secret's base64-decoded bytes")!.cause).toBe('SECRET_ENCODING');
    expect(Buffer.from(find(cs, 'the base64 encoding of the secret')!.bytes).toString()).toBe('YzJWamNtVjA=');
    expect(Buffer.from(find(cs, 'the secret wrapped in double quotes')!.bytes).toString()).toBe('"c2VjcmV0"');
  });
  it('strips whitespace the configured secret carries', () => {
    const cs = secretCandidates({ secret: ' abc\n' });
    const texts = cs.filter((c) => c.cause === 'SECRET_WHITESPACE').map((c) => Buffer.from(c.bytes).toString());
    expect(texts).toEqual(expect.arrayContaining(['abc', ' abc', 'abc\n']));
  });
  it('hex: secrets: the hex text itself is an encoding candidate; hex-decoded raw is offered for raw hex text', () => {
    const cs = secretCandidates({ secret: 'hex:00ff' });
    expect(cs.find((c) => Buffer.from(c.bytes).toString() === '00ff')?.cause).toBe('SECRET_ENCODING');
    const raw = secretCandidates({ secret: '00ff' });
    expect(hex(find(raw, "the secret's hex-decoded bytes")!.bytes)).toBe('00ff');
  });
  it('previous, API key and other profiles, labelled by profile', () => {
    const cs = secretCandidates({
      secret: 's1',
      previousSecret: 's0',
      apiKey: 'oc_live_k',
      otherProfiles: [{ name: 'staging', secret: 's2' }, { name: 'dup', secret: 's1' }],
    });
    expect(cs.find((c) => c.cause === 'SIGNED_WITH_PREVIOUS_SECRET')!.label).toBe('the previous secret');
    expect(cs.find((c) => c.cause === 'API_KEY_AS_SECRET')!.bytes).toEqual(new TextEncoder().encode('oc_live_k'));
    const other = cs.filter((c) => c.cause === 'SIGNED_WITH_OTHER_PROFILE_SECRET');
    expect(other).toEqual([{ bytes: new TextEncoder().encode('s2'), cause: 'SIGNED_WITH_OTHER_PROFILE_SECRET', label: 'the secret of profile "staging"', profile: 'staging' }]);
  });
  it('a previous secret past its grace period says when the grace ended; a retired secret of another profile is offered', () => {
    const ended = secretCandidates({ secret: 's1', previousSecret: 's0', previousSecretGraceEnded: '2026-01-01T00:00:00.000Z' });
    expect(ended.find((c) => c.cause === 'SIGNED_WITH_PREVIOUS_SECRET')).toMatchObject({ label: 'the previous secret, whose grace period ended at 2026-01-01T00:00:00.000Z', graceEnded: '2026-01-01T00:00:00.000Z' });
    const unknown = secretCandidates({ secret: 's1', previousSecret: 's0', previousSecretGraceEnded: '' });
    expect(unknown.find((c) => c.cause === 'SIGNED_WITH_PREVIOUS_SECRET')!.label).toBe('the previous secret, whose grace period has ended');
    const inGrace = secretCandidates({ secret: 's1', previousSecret: 's0' }).find((c) => c.cause === 'SIGNED_WITH_PREVIOUS_SECRET')!;
    expect('graceEnded' in inGrace).toBe(false);
    const other = secretCandidates({ secret: 's1', otherProfiles: [{ name: 'st', retiredSecret: 's9' }] });
    expect(other).toContainEqual({ bytes: new TextEncoder().encode('s9'), cause: 'SIGNED_WITH_OTHER_PROFILE_SECRET', label: 'the retired previous secret of profile "st" (its grace period has ended)', profile: 'st' });
  });
  it('each candidate works as an HMAC key', () => {
    for (const c of secretCandidates({ secret: 'k' })) expect(createHmac('sha256', c.bytes).update('x').digest('hex')).toHaveLength(64);
  });
  it('looksLikeApiKey', () => {
    expect(looksLikeApiKey('rfl_live_x')).toBe(true);
    expect(looksLikeApiKey('sk_x')).toBe(false);
  });
});
