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
