import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { signHs256Sync } from '../../core/jwt-sign-sync.js';

const NOW = TEST_NOW.getTime() / 1000;
const TOKEN = signHs256Sync(new TextEncoder().encode('any secret at all, decode ignores it'), { user_id: 'user_123', iat: NOW - 60, exp: NOW + 3540 });
const decode = (argv: string[], o: Parameters<typeof createTestCtx>[0] = {}) => runCli(['token', 'decode', ...argv], createTestCtx(o));

describe('token decode', () => {
  it('human: says loudly that nothing was verified, with human dates', async () => {
    const r = await decode([TOKEN]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('NOT VERIFIED');
    expect(r.stdout).toContain('Header  {"alg":"HS256","typ":"JWT"}');
    expect(r.stdout).toContain('2026-01-01T00:59:00Z (expires in 59m)');
    expect(r.stdout).toContain('(not checked)');
  });

  it('--json: verified false, header, payload, signature, times', async () => {
    const r = await decode([TOKEN, '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({
      verified: false,
      notice: expect.stringContaining('NOT VERIFIED'),
      header: { alg: 'HS256', typ: 'JWT' },
      payload: { user_id: 'user_123', iat: NOW - 60, exp: NOW + 3540 },
      signature: TOKEN.split('.')[2],
      times: {
        iat: { iso: '2025-12-31T23:59:00.000Z', relative: 'issued 1m ago' },
        exp: { iso: '2026-01-01T00:59:00.000Z', relative: 'expires in 59m' },
      },
    });
  });

  it('needs no secret, provider or profile, and reads stdin', async () => {
    const r = await decode(['--json'], { stdin: `${TOKEN}\n` });
    expect([r.exitCode, r.json().payload.user_id]).toEqual([0, 'user_123']);
  });

  it('removes a Bearer prefix and quotes, with a warning', async () => {
    const r = await decode([`"Bearer ${TOKEN}"`, '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('QUOTED_TOKEN');
    expect(r.stderr).toContain('BEARER_PREFIX');
  });

  it('--json: a time past the Date range has iso null, not a note in the iso field', async () => {
    const far = signHs256Sync(new TextEncoder().encode('k'), { user_id: 'u', nbf: 1e20, exp: NOW + 60 });
    const t = (await decode([far, '--json'])).json().times;
    expect([t.nbf.iso, t.exp.iso]).toEqual([null, '2026-01-01T00:01:00.000Z']);
  });

  it('human: control characters in the header and claims are escaped, not sent to the terminal', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const r = await runCli(['token', 'decode', `${b64('{"alg":"HS256","x":"\u009b2J"}')}.${b64('{"sub":"\\u001b[2J","n\u0085":"\u2028"}')}.AAAA`], createTestCtx());
    expect(r.exitCode).toBe(0);
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028]/);
    expect(r.stdout).toContain('Header  {"alg":"HS256","x":"\\u009b2J"}');
    expect(r.stdout).toContain('sub      "\\u001b[2J"');
    expect(r.stdout).toContain('n\\u0085  "\\u2028"');
  });

  it('exit 3 when it does not decode', async () => {
    const r = await decode(['abc.def', '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([3, 'ERR_TOKEN_MALFORMED']);
    const h = await decode([`${TOKEN}=`]);
    expect(h.exitCode).toBe(3);
    expect(h.stderr).toContain('padding');
  });

  it('exit 2 when there is no token', async () => {
    const r = await decode(['--json'], { stdinTTY: true });
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_TOKEN_REQUIRED']);
    const blank = await decode(['', '--json']);
    expect([blank.exitCode, blank.json().error.code]).toEqual([2, 'ERR_TOKEN_REQUIRED']);
  });
});
