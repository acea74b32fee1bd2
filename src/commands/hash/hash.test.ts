import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../cli/errors.js';
import { createTestCtx, runCli, type TestCtxOptions } from '../../../test/helpers/test-ctx.js';

const S = 'sk_test_0123456789abcdef0123456789abcdef';
const env = { CHATID_SECRET: S };
const hm = (key: string | Buffer, msg: string) => createHmac('sha256', key).update(msg).digest('hex');
const H = hm(S, 'user_123');
const cli = (argv: string[], o: TestCtxOptions = {}) => runCli(argv, createTestCtx({ env, ...o }));
const dir = mkdtempSync(join(tmpdir(), 'chatid-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hash', () => {
  it('prints the lowercase hex HMAC-SHA256 alone (human) and {userId,hash} (--json)', async () => {
    const r = await cli(['hash', 'user_123']);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, `${H}\n`, '']);
    const j = await cli(['hash', 'user_123', '--json']);
    expect([j.exitCode, j.json()]).toEqual([0, { userId: 'user_123', hash: H }]);
  });

  it('reads the id from stdin (pipe, or "-"), dropping one final newline', async () => {
    expect((await cli(['hash'], { stdin: 'user_123\n' })).stdout).toBe(`${H}\n`);
    expect((await cli(['hash', '-'], { stdin: 'user_123' })).stdout).toBe(`${H}\n`);
    expect((await cli(['hash', '--json'], { stdin: 'user_123\r\n' })).json().hash).toBe(H);
  });

  it('refuses several lines or nothing on stdin (exit 2)', async () => {
    const many = await cli(['hash', '--json'], { stdin: 'a\nb\n' });
    expect([many.exitCode, many.json().error.code]).toEqual([2, 'ERR_HASH_STDIN_LINES']);
    const none = await cli(['hash', '--json']);
    expect([none.exitCode, none.json().error.code]).toEqual([2, 'ERR_HASH_USER_ID_REQUIRED']);
    const tty = await cli(['hash'], { stdinTTY: true });
    expect(tty.exitCode).toBe(2);
    expect(tty.stderr).toMatch(/ERR_HASH_USER_ID_REQUIRED/);
  });

  it('refuses an id on stdin that is not UTF-8 text, or holds a NUL, instead of hashing changed bytes (exit 2)', async () => {
    // Decoded leniently, the Latin-1 "é" (0xE9) became U+FFFD and that id was hashed with exit 0.
    for (const [bytes, message] of [
      [Buffer.from('caf\xe9\n', 'latin1'), 'The user id read from stdin is not valid UTF-8 (Latin-1 or UTF-16 text?).'],
      [Buffer.from('user_123', 'utf16le'), 'The user id read from stdin holds a NUL byte (UTF-16 text?).'],
    ] as const) {
      const r = await cli(['hash', '--json'], { stdin: bytes });
      expect([r.exitCode, r.json().error.code, r.json().error.message]).toEqual([2, 'ERR_HASH_STDIN_NOT_TEXT', message]);
    }
    const sign = await cli(['token', 'sign', '--provider', 'chatbase', '--json'], { stdin: Buffer.from('caf\xe9', 'latin1') });
    expect([sign.exitCode, sign.json().error.code]).toEqual([2, 'ERR_TOKEN_STDIN_NOT_TEXT']);
    // Valid UTF-8 is hashed as it is.
    expect((await cli(['hash'], { stdin: Buffer.from('josé\n') })).stdout).toBe(`${hm(S, 'josé')}\n`);
  });

  it('a too-large stdin names --batch for many ids', async () => {
    const big = await cli(['hash', '--json'], { stdin: 'u'.repeat(70_000) });
    expect([big.exitCode, big.json().error.code]).toEqual([2, 'ERR_INPUT_TOO_LARGE']);
    expect(big.json().error.hint).toContain('chatid hash --batch -');
  });

  it('uses hex: and base64: secrets as their decoded bytes', async () => {
    const key = Buffer.from('00ff10', 'hex');
    expect((await cli(['hash', 'u1'], { env: { CHATID_SECRET: 'hex:00ff10' } })).stdout).toBe(`${hm(key, 'u1')}\n`);
    expect((await cli(['hash', 'u1'], { env: { CHATID_SECRET: `base64:${key.toString('base64')}` } })).stdout).toBe(`${hm(key, 'u1')}\n`);
  });

  it('--expect: exit 0 on a match', async () => {
    const j = await cli(['hash', 'user_123', '--expect', H, '--json']);
    expect([j.exitCode, j.json()]).toEqual([0, { userId: 'user_123', hash: H, match: true, causes: [] }]);
    const h = await cli(['hash', 'user_123', '--expect', H]);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/result\s+match/);
  });

  it('--expect: exit 3 on a mismatch, with the proven cause and its fix', async () => {
    const expected = hm(`${S}\n`, 'user_123').toUpperCase();
    const j = await cli(['hash', 'user_123', '--expect', expected, '--json']);
    expect(j.exitCode).toBe(3);
    const doc = j.json();
    expect(Object.keys(doc)).toEqual(['userId', 'hash', 'match', 'causes']);
    expect(doc.match).toBe(false);
    expect(doc.causes.map((c: { code: string }) => c.code).sort()).toEqual(['DIGEST_UPPERCASE', 'SECRET_WHITESPACE']);
    for (const c of doc.causes) expect(Object.keys(c)).toEqual(['code', 'message', 'fix']);
    const h = await cli(['hash', 'user_123', '--expect', expected]);
    expect(h.exitCode).toBe(3);
    expect(h.stdout).toMatch(/MISMATCH/);
    expect(h.stdout).toContain(`expected  ${expected}  (64 chars)`);
    // One character is "1 char", not "1 chars".
    expect((await cli(['hash', 'user_123', '--expect', 'y'])).stdout).toContain('expected  y  (1 char)');
    expect(h.stdout).toMatch(/SECRET_WHITESPACE/);
    expect(h.stdout).toMatch(/fix:/);
    expect(h.stdout).not.toContain(S);
  });

  it('--expect: exit 3 with an honest "no known cause"', async () => {
    const j = await cli(['hash', 'user_123', '--expect', hm('another-secret', 'user_123'), '--json']);
    expect([j.exitCode, j.json().causes]).toEqual([3, []]);
    const h = await cli(['hash', 'user_123', '--expect', hm('another-secret', 'user_123')]);
    expect(h.stdout).toMatch(/No known cause/);
  });

  it('--expect that is no 64-hex digest and that nothing explains: says so, not "a different secret"', async () => {
    const h = await cli(['hash', 'user_123', '--expect', 'abc']);
    expect(h.exitCode).toBe(3);
    expect(h.stdout).toContain('No known cause. The --expect value is not an HMAC-SHA256 user hash (64 hex characters; it has 3 characters)');
    expect(h.stdout).not.toContain('different secret');
    const j = await cli(['hash', 'user_123', '--expect', 'not-a-hash', '--json']);
    expect([j.exitCode, j.json().causes]).toEqual([3, []]);
    expect(j.stderr).toBe('warning: the --expect value is not an HMAC-SHA256 user hash (64 hex characters; it has 10 characters, not all hex), and none of the usual encodings or cuts of the hash gives it: check where it was copied from (another field, a cut column).\n');
    // A value a known mistake explains (here: cut to 40 characters) keeps its cause and no such warning.
    const cut = await cli(['hash', 'user_123', '--expect', H.slice(0, 40), '--json']);
    expect([cut.json().causes.map((x: { code: string }) => x.code), cut.stderr]).toEqual([['DIGEST_TRUNCATED'], '']);
  });

  it('--expect holding a JWT: says it is a token, not a user hash, and which command checks it', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoidXNlcl8xMjMifQ.c2lnbmF0dXJlLW5vdC1jaGVja2Vk';
    const r = await cli(['hash', 'user_123', '--expect', jwt, '--json']);
    expect([r.exitCode, r.json().match]).toEqual([3, false]);
    expect(r.stderr).toBe('warning: --expect holds a JWT (eyJ….….…), not a user hash: an identity token is checked with `chatid token verify <token>`.\n');
  });

  it('--email: finds the email hashed instead of the id', async () => {
    const j = await cli(['hash', 'user_123', '--email', 'ann@example.com', '--expect', hm(S, 'ann@example.com'), '--json']);
    expect(j.json().causes.map((c: { code: string }) => c.code)).toEqual(['HASHED_EMAIL']);
  });

  it('an id with whitespace no one can see (a no-break space, a BOM) is warned of with it escaped', async () => {
    const r = await cli(['hash', 'user_123\u00a0']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('warning: the user id "user_123\\u00a0" has leading or trailing whitespace; it is hashed as is.\n');
    const sign = await cli(['token', 'sign', '\uFEFFuser_123', '--provider', 'chatbase']);
    expect(sign.stderr).toContain('warning: the user id "\\ufeffuser_123" has leading or trailing whitespace');
  });

  it('--email without --expect is refused (exit 2): it only feeds the doctor, and was dropped without a word', async () => {
    for (const argv of [['hash', 'user_123', '--email', 'ann@example.com', '--json'], ['hash', '--batch', '-', '--email', 'ann@example.com', '--json']]) {
      const r = await cli(argv, { stdin: 'user_123\n' });
      expect([r.exitCode, r.json().error.code, r.stdout], argv.join(' ')).toEqual([2, 'ERR_HASH_EMAIL_WITHOUT_EXPECT', expect.not.stringContaining(H)]);
      expect(r.json().error.hint).toBe('Add --expect <hash> to test "hashed the email instead of the id"; to hash the email itself, pass it as the user id: `chatid hash ann@example.com`.');
    }
  });

  it("searches the store: the previous secret and other profiles' secrets", async () => {
    const profiles = {
      prod: { provider: 'chatbase' as const, secret: S, previousSecret: 'sk_old', previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' },
      staging: { provider: 'chatbase' as const, secret: 'sk_staging' },
    };
    const prev = await runCli(['hash', 'user_123', '--expect', hm('sk_old', 'user_123'), '--json'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect([prev.exitCode, prev.json().causes.map((c: { code: string }) => c.code)]).toEqual([3, ['SIGNED_WITH_PREVIOUS_SECRET']]);
    // Secret from the environment: the store is opened only for the doctor.
    const other = await runCli(['hash', 'user_123', '--expect', hm('sk_staging', 'user_123'), '--json'], createTestCtx({ env, profiles, activeProfile: 'prod' }));
    const [cause] = other.json().causes;
    expect(cause.code).toBe('SIGNED_WITH_OTHER_PROFILE_SECRET');
    expect(cause.message).toContain('"staging"');
  });

  it('a previous secret past its grace period is no longer accepted, but still proven as the cause, with when the grace ended', async () => {
    const OLD = 'old-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const profiles = { p: { provider: 'chatbase' as const, secret: S, previousSecret: OLD, previousSecretExpiresAt: '2025-12-31T23:59:59.000Z' } };
    const r = await runCli(['hash', 'user_123', '--expect', hm(OLD, 'user_123'), '--json'], createTestCtx({ profiles, activeProfile: 'p' }));
    expect(r.exitCode).toBe(3);
    const causes = r.json().causes;
    expect(causes.map((c: { code: string }) => c.code)).toEqual(['SIGNED_WITH_PREVIOUS_SECRET']);
    expect(causes[0].message).toBe('The hash was computed with the previous secret, whose grace period ended at 2025-12-31T23:59:59.000Z. Your server still uses the secret from before the rotation.');
    // With CHATID_SECRET in use (the store is then not read for settings), the active profile's
    // previous secret is still its previous secret, not "another profile's".
    for (const prof of [profiles, { p: { provider: 'chatbase' as const, secret: S, retiredSecret: OLD } }]) {
      const env = await runCli(['hash', 'user_123', '--expect', hm(OLD, 'user_123'), '--json'], createTestCtx({ env: { CHATID_SECRET: S }, profiles: prof, activeProfile: 'p' }));
      expect(env.json().causes.map((c: { code: string }) => c.code)).toEqual(['SIGNED_WITH_PREVIOUS_SECRET']);
    }
    // CHATID_SECRET that is not the active profile's: the profile is one of the others, named,
    // its stored secret included (no "current secret" of it to deploy).
    const foreign = { p: { provider: 'chatbase' as const, secret: 'sk_p_stored_secret', previousSecret: OLD, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' } };
    // The fix is the override, not --profile p (which changes nothing: CHATID_SECRET wins).
    for (const [made, label] of [[OLD, 'the previous secret of profile "p" (the profile in use)'], ['sk_p_stored_secret', 'the stored secret of profile "p" (the profile in use)']] as const) {
      const f = await runCli(['hash', 'user_123', '--expect', hm(made, 'user_123'), '--json'], createTestCtx({ env: { CHATID_SECRET: S }, profiles: foreign, activeProfile: 'p' }));
      expect(f.json().causes, label).toEqual([expect.objectContaining({ code: 'SIGNED_WITH_OTHER_PROFILE_SECRET', message: expect.stringContaining(label), fix: expect.stringContaining('unset CHATID_SECRET') })]);
      expect(f.json().causes[0].fix).not.toContain('another agent');
    }
    // Another profile's retired secret is searched too.
    const others = { ...profiles, q: { provider: 'chatbase' as const, secret: 'sk_q', retiredSecret: 'sk_q_retired' } };
    const q = await runCli(['hash', 'user_123', '--expect', hm('sk_q_retired', 'user_123'), '--json'], createTestCtx({ profiles: others, activeProfile: 'p' }));
    expect(q.json().causes).toEqual([expect.objectContaining({ code: 'SIGNED_WITH_OTHER_PROFILE_SECRET', message: expect.stringContaining('retired previous secret of profile "q"') })]);
  });

  it('finds the API key used as the secret, and warns when the secret looks like an API key', async () => {
    const j = await cli(['hash', 'user_123', '--expect', hm('oc_live_key', 'user_123'), '--json'], { env: { ...env, CHATID_API_KEY: 'oc_live_key' } });
    expect(j.json().causes.map((c: { code: string }) => c.code)).toEqual(['API_KEY_AS_SECRET']);
    const w = await cli(['hash', 'u1'], { env: { CHATID_SECRET: 'rfl_live_abc' } });
    expect([w.exitCode, w.stderr]).toEqual([0, expect.stringMatching(/API key/)]);
  });

  it('--expect: names the wrapper around a right digest (quotes, sha256= prefix, spaces)', async () => {
    for (const [expected, code] of [
      [`"${H}"`, 'DIGEST_QUOTED'],
      [`'${H}'`, 'DIGEST_QUOTED'],
      [`sha256=${H}`, 'DIGEST_PREFIXED'],
      [H.match(/.{8}/g)!.join(' '), 'DIGEST_SPACED'],
    ] as const) {
      const j = await cli(['hash', 'user_123', '--expect', expected, '--json']);
      expect([expected, j.exitCode, j.json().causes.map((c: { code: string }) => c.code)]).toEqual([expected, 3, [code]]);
    }
    const other = await cli(['hash', 'user_123', '--expect', `sha256=${hm('another-secret', 'user_123')}`, '--json']);
    expect([other.exitCode, other.json().causes]).toEqual([3, []]);
  });

  it('--expect: finds an id hashed in another Unicode form or as Latin-1 bytes', async () => {
    const nfd = 'Jose\u0301';
    const u = await cli(['hash', nfd, '--expect', hm(S, 'Jos\u00e9'), '--json']);
    expect([u.exitCode, u.json().causes.map((c: { code: string }) => c.code)]).toEqual([3, ['USER_ID_UNICODE_FORM']]);
    const l = await cli(['hash', 'Jos\u00e9', '--expect', createHmac('sha256', S).update(Buffer.from('Jos\u00e9', 'latin1')).digest('hex'), '--json']);
    expect([l.exitCode, l.json().causes.map((c: { code: string }) => c.code)]).toEqual([3, ['USER_ID_ENCODING']]);
    expect(l.json().causes[0].message).toContain('Latin-1');
  });

  it('refuses vendors without an HMAC user hash (exit 2), naming their mechanism and command', async () => {
    for (const [provider, command] of [
      ['teamweb', 'chatid encrypt --id'],
      ['replyful', 'chatid token sign <userId>'],
      ['opencx', 'chatid token sign --email'],
    ] as const) {
      const j = await cli(['hash', 'u1', '--json'], { env: { ...env, CHATID_PROVIDER: provider } });
      expect([provider, j.exitCode, j.json().error.code]).toEqual([provider, 2, 'ERR_HASH_PROVIDER']);
      expect(j.json().error.message).toContain('(from CHATID_PROVIDER)');
      expect(j.json().error.hint).toContain(command);
      expect(j.json().error.hint).toContain('--provider generic');
      const h = await cli(['hash', 'u1'], { env: { ...env, CHATID_PROVIDER: provider } });
      expect([h.exitCode, h.stdout]).toEqual([2, '']);
      expect(h.stderr).toMatch(/no HMAC user hash/);
      const b = await cli(['hash', '--batch', '-'], { env: { ...env, CHATID_PROVIDER: provider }, stdin: 'a\n' });
      expect([b.exitCode, b.stdout]).toEqual([2, '']);
    }
    // The profile's provider counts too, and the refusal comes before any prompt.
    const profiles = { site: { provider: 'teamweb' as const, secret: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' } };
    const p = await runCli(['hash', 'u1', '--json'], createTestCtx({ profiles, activeProfile: 'site' }));
    expect([p.exitCode, p.json().error.code]).toEqual([2, 'ERR_HASH_PROVIDER']);
    expect(p.json().error.message).toContain('TeamWeb AI (from the profile)');
    // … also when the secret comes from CHATID_SECRET (the profile still names the provider).
    const e = await runCli(['hash', 'u1', '--json'], createTestCtx({ env: { CHATID_SECRET: S }, profiles, activeProfile: 'site' }));
    expect([e.exitCode, e.json().error.code]).toEqual([2, 'ERR_HASH_PROVIDER']);
    const tty = createTestCtx({ profiles: { site: { provider: 'replyful' as const } }, activeProfile: 'site', stdinTTY: true, stdoutTTY: true, stderrTTY: true });
    const noPrompt = await runCli(['hash', 'u1'], tty);
    expect([noPrompt.exitCode, tty.asked]).toEqual([2, []]);
  });

  it('hashes for Chatbase, Bookbag and generic; --provider overrides the environment and profile', async () => {
    for (const provider of ['chatbase', 'bookbag', 'generic']) {
      const r = await cli(['hash', 'user_123'], { env: { ...env, CHATID_PROVIDER: provider } });
      expect([provider, r.exitCode, r.stdout, r.stderr]).toEqual([provider, 0, `${H}\n`, '']);
    }
    const g = await cli(['hash', 'user_123', '--provider', 'generic'], { env: { ...env, CHATID_PROVIDER: 'teamweb' } });
    expect([g.exitCode, g.stdout]).toEqual([0, `${H}\n`]);
    const t = await cli(['hash', 'user_123', '--provider', 'opencx', '--json'], { env: { ...env, CHATID_PROVIDER: 'chatbase' } });
    expect([t.exitCode, t.json().error.code]).toEqual([2, 'ERR_HASH_PROVIDER']);
    expect(t.json().error.message).toContain('(from --provider)');
    const bad = await cli(['hash', 'user_123', '--provider', 'intercom', '--json']);
    expect([bad.exitCode, bad.json().error.code]).toEqual([2, 'ERR_PROVIDER_UNKNOWN']);
  });

  it('exit 4 without a secret, exit 2 on bad usage', async () => {
    const none = await runCli(['hash', 'u1', '--json'], createTestCtx());
    expect([none.exitCode, none.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
    // Without a profile, `secret set` would fail too ("no profiles yet"): the hint names what works.
    expect(none.json().error.hint).toBe('Pass --secret-stdin or --secret-file, set CHATID_SECRET, or keep it in a profile: `chatid profile add <name> --provider <vendor> --secret-stdin`.');
    const inProfile = await runCli(['hash', 'u1', '--json'], createTestCtx({ profiles: { dev: { provider: 'chatbase' } }, activeProfile: 'dev' }));
    expect([inProfile.json().error.message, inProfile.json().error.hint]).toEqual(['No identity secret in profile "dev".', 'Store one with `chatid secret set --profile dev`, or pass --secret-stdin / --secret-file, or set CHATID_SECRET.']);
    const twice = await cli(['hash', '--secret-stdin', '--json'], { stdin: 'x' });
    expect([twice.exitCode, twice.json().error.code]).toEqual([2, 'ERR_STDIN_TWICE']);
    const unknown = await cli(['hash', 'u1', '--nope', '--json']);
    expect(unknown.exitCode).toBe(2);
  });

  it('prompts for the secret at a terminal; Ctrl-C exits 130', async () => {
    const tty = { stdinTTY: true, stdoutTTY: true, stderrTTY: true, env: {} };
    const ok = await cli(['hash', 'user_123'], { ...tty, answers: [S] });
    expect([ok.exitCode, ok.stdout]).toEqual([0, `${H}\n`]);
    const cancelled = await cli(['hash', 'user_123'], { ...tty, answers: [new CancelledError()] });
    expect(cancelled.exitCode).toBe(130);
    // A pasted secret with a space after it: used, with the warning; whitespace alone is refused.
    const spaced = await cli(['hash', 'user_123'], { ...tty, answers: [`${S} `] });
    expect([spaced.exitCode, spaced.stdout, spaced.stderr]).toEqual([0, `${hm(`${S} `, 'user_123')}\n`, expect.stringContaining('the identity secret typed at the prompt has a trailing space')]);
    const blank = await cli(['hash', 'user_123', '--json'], { ...tty, answers: ['   '] });
    expect([blank.exitCode, blank.json().error.code]).toEqual([2, 'ERR_SECRET_EMPTY']);
  });
});

describe('hash: whitespace in the secret', () => {
  it('an empty --secret-file path is named as such, not as the working directory', async () => {
    const r = await cli(['hash', 'user_123', '--secret-file', '', '--json'], { env: {} });
    expect([r.exitCode, r.json().error.code, r.json().error.message]).toEqual([2, 'ERR_SECRET_FILE', '--secret-file is empty: it takes a file path, or - for stdin.']);
  });
  it('a byte-order mark that starts a secret file or stdin is removed, with a warning, the same way on both', async () => {
    const file = join(dir, 'bom.key');
    writeFileSync(file, `\uFEFF${S}\r\n`, { mode: 0o600 });
    const f = await cli(['hash', 'user_123', '--secret-file', file], { env: {} });
    const i = await cli(['hash', 'user_123', '--secret-stdin'], { env: {}, stdin: `\uFEFF${S}` });
    for (const r of [f, i]) {
      expect([r.exitCode, r.stdout]).toEqual([0, `${H}\n`]);
      expect(r.stderr).toMatch(/^warning: removed a byte-order mark \(U\+FEFF\) from the start of the identity secret (file|read from stdin)\.\n/);
    }
  });

  it('warns and uses it as given (a user may be reproducing a server); refuses whitespace alone', async () => {
    const r = await cli(['hash', 'user_123', '--secret-stdin'], { env: {}, stdin: `${S} \n\n` });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(hm(`${S} \n`, 'user_123'));
    expect(r.stderr).toContain('warning: the identity secret read from stdin has a trailing space and newline; it is used as given');
    const f = await cli(['hash', 'user_123', '--secret', `\t${S}`], { env: {} });
    expect(f.stderr).toContain('the identity secret given with --secret has a leading tab;');
    // CHATID_SECRET="$(cat key)"$'\n' and a stored secret get the same check.
    const fromEnv = await cli(['hash', 'user_123'], { env: { CHATID_SECRET: `${S}\n` } });
    expect([fromEnv.exitCode, fromEnv.stdout.trim()]).toEqual([0, hm(`${S}\n`, 'user_123')]);
    expect(fromEnv.stderr).toContain('warning: the identity secret from CHATID_SECRET has a trailing newline;');
    const stored = await cli(['hash', 'user_123'], { env: {}, profiles: { p: { provider: 'chatbase', secret: ` ${S}` } }, activeProfile: 'p' });
    expect(stored.stderr).toContain('the identity secret from the profile has a leading space;');
    expect((await cli(['hash', 'user_123', '--json'], { env: { CHATID_SECRET: ' ' } })).json().error.message).toBe('The identity secret from CHATID_SECRET is only whitespace.');
    const placeholder = await cli(['hash', 'user_123'], { env: { CHATID_SECRET: 'sk_…' } });
    expect([placeholder.exitCode, placeholder.stderr]).toEqual([0, expect.stringContaining('warning: the identity secret from CHATID_SECRET holds "…", the placeholder')]);
    const blank = await cli(['hash', 'user_123', '--secret-stdin', '--json'], { env: {}, stdin: ' \t\n' });
    expect([blank.exitCode, blank.json().error.code, blank.json().error.message]).toEqual([2, 'ERR_SECRET_EMPTY', 'The identity secret read from stdin is only whitespace.']);
  });
});

describe('hash --batch', () => {
  it('warns once, on stderr, about CSV columns it does not hash', async () => {
    const r = await cli(['hash', '--batch', '-'], { stdin: 'user_id,email,plan\nu1,a@x.io,pro\nu2,b@x.io,free\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('warning: hash --batch does not read the columns "email", "plan": it uses the user_id column only.\nhashed 2 user ids\n');
    const q = await cli(['hash', '--batch', '-', '-q'], { stdin: 'user_id,plan\nu1,pro\n' });
    expect(q.stderr).toBe('');
  });
  it('one hash per line from stdin; NDJSON with --json', async () => {
    const r = await cli(['hash', '--batch', '-'], { stdin: 'a\nb\r\nc' });
    expect([r.exitCode, r.stdout]).toEqual([0, `${hm(S, 'a')}\n${hm(S, 'b')}\n${hm(S, 'c')}\n`]);
    const j = await cli(['hash', '--batch', '-', '--json'], { stdin: 'a\nb\n' });
    expect(j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([
      { userId: 'a', hash: hm(S, 'a') },
      { userId: 'b', hash: hm(S, 'b') },
    ]);
  });

  it('--json escapes C1 controls and U+2028/U+2029 in ids, as every --json document does', async () => {
    const ids = ['a\u0080b', 'c\u0085\u009bd', 'e\u2028f\u2029g'];
    const j = await cli(['hash', '--batch', '-', '--json'], { stdin: `${ids.join('\n')}\n` });
    expect(j.exitCode).toBe(0);
    expect(j.stdout).toBe(ids.map((id) => `{"userId":"${id.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}","hash":"${hm(S, id)}"}\n`).join(''));
    expect(j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).userId)).toEqual(ids);
  });

  it('reads a CSV file by its header', async () => {
    const file = join(dir, 'users.csv');
    writeFileSync(file, 'email,user_id\nann@x.io,u1\nbob@x.io,"u,2"\n');
    const r = await cli(['hash', '--batch', file, '--json']);
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).userId)).toEqual(['u1', 'u,2']);
    expect(JSON.parse(r.stdout.split('\n')[1]!).hash).toBe(hm(S, 'u,2'));
  });

  it('stops at a bad row naming its line (exit 2)', async () => {
    const r = await cli(['hash', '--batch', '-', '--json'], { stdin: 'a\n\nc\n' });
    expect(r.exitCode).toBe(2);
    // stdout is NDJSON under --batch --json: the error is one line, like every result.
    const lines = r.stdout.trimEnd().split('\n');
    expect(JSON.parse(lines.at(-1)!).error).toMatchObject({ code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_EMPTY_ID' });
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });

  it('refuses a CSV header that names no id column instead of hashing it as ids', async () => {
    for (const head of ['name,email', 'email', 'Email,Name,plan', '"name","email"']) {
      const r = await cli(['hash', '--batch', '-', '--json'], { stdin: `${head}\nAnn,ann@x.io\n` });
      expect([head, r.exitCode, r.json().error.code]).toEqual([head, 2, 'ERR_BATCH_NO_ID_COLUMN']);
      expect(r.json().error.hint).toContain('user_id');
    }
    // Ids that merely hold a comma, or the word "email" inside, are still plain ids.
    const plain = await cli(['hash', '--batch', '-'], { stdin: 'u,1\nemail_user\n' });
    expect([plain.exitCode, plain.stdout]).toEqual([0, `${hm(S, 'u,1')}\n${hm(S, 'email_user')}\n`]);
  });

  it('writes every result before a bad line, then the error, whatever the file size', async () => {
    for (const n of [3, 1000, 5000]) {
      const ids = Array.from({ length: n }, (_, i) => `u${i + 1}`);
      for (const [input, what] of [
        [`${ids.join('\n')}\n\nx\n`, 'plain'],
        [`user_id,name\n${ids.map((id) => `${id},N`).join('\n')}\n,N\n`, 'csv'],
      ] as const) {
        const r = await cli(['hash', '--batch', '-'], { stdin: input });
        expect([n, what, r.exitCode]).toEqual([n, what, 2]);
        const out = r.stdout.trimEnd().split('\n');
        expect(out.length, `${what} ${n}`).toBe(n);
        expect(out.at(-1)).toBe(hm(S, ids.at(-1)!));
        expect(r.stderr).toContain(`line ${what === 'csv' ? n + 2 : n + 1}`);
      }
    }
  });

  it('answers a failure before the first row (no secret) with a one-line error document', async () => {
    const r = await runCli(['hash', '--batch', '-', '--json'], createTestCtx({ stdin: 'a\n' }));
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(/^\{"error":\{"code":"ERR_SECRET_MISSING"[^\n]*\}\n$/);
  });

  it('refuses an id argument, --expect, a missing file (exit 2)', async () => {
    expect((await cli(['hash', 'u1', '--batch', '-'], { stdin: 'a\n' })).stderr).toMatch(/ERR_HASH_BATCH_USER_ID/);
    expect((await cli(['hash', '--batch', '-', '--expect', H], { stdin: 'a\n' })).stderr).toMatch(/ERR_HASH_BATCH_EXPECT/);
    const missing = await cli(['hash', '--batch', join(dir, 'nope.txt'), '--json']);
    expect([missing.exitCode, missing.json().error.code]).toEqual([2, 'ERR_BATCH_FILE']);
    // An empty path (an unset variable) is named as such, not as the working directory.
    const empty = await cli(['hash', '--batch', '', '--json']);
    expect([empty.exitCode, empty.json().error.code, empty.json().error.message]).toEqual([2, 'ERR_BATCH_FILE', '--batch is empty: it takes a file path, or - for stdin.']);
  });
});
