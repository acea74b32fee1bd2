// Interop with PyJWT, both ways, through the whole CLI: tokens from `chatid token sign` are
// verified by PyJWT, tokens from PyJWT are verified by `chatid token verify`. Uses Debian's
// /usr/bin/python3 (python3-jwt), not whatever python3 is first on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

const PY = '/usr/bin/python3';
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import jwt; print(jwt.__version__)'], { encoding: 'utf8' }) : undefined;
const version = probe?.status === 0 ? probe.stdout.trim() : undefined;
const reason = !existsSync(PY) ? `${PY} not found` : version === undefined ? `PyJWT not importable by ${PY} (apt install python3-jwt)` : '';

const SECRET = 'interop_secret_0123456789abcdef0123456789';
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

/** Run a Python snippet with JSON in and JSON out. */
function py(code: string, input: unknown): any {
  const r = spawnSync(PY, ['-c', `import json, sys, jwt\nargs = json.load(sys.stdin)\n${code}`], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const env = (provider: string) => ({ CHATID_SECRET: SECRET, CHATID_PROVIDER: provider });

describe.skipIf(version === undefined)(`PyJWT ${version ?? `(skipped: ${reason})`} interop`, () => {
  for (const provider of ['chatbase', 'replyful', 'generic']) {
    it(`PyJWT verifies a ${provider} token from chatid token sign`, async () => {
      const r = await runCli(['token', 'sign', 'user_ü_123', '--email', 'ada@example.com', '--name', 'Ada', '--json', ...(provider === 'chatbase' ? ['--attr', 'plan=pro'] : ['--claim', 'plan=pro'])], createTestCtx({ env: env(provider), now: NOW }));
      expect(r.exitCode).toBe(0);
      const signed = r.json();
      const decoded = py(
        `print(json.dumps({"payload": jwt.decode(args["token"], args["key"], algorithms=["HS256"]), "header": jwt.get_unverified_header(args["token"])}))`,
        { token: signed.token, key: SECRET },
      );
      expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(decoded.payload).toEqual(signed.payload);
    });
  }

  it('PyJWT rejects a chatid token under another key', async () => {
    const r = await runCli(['token', 'sign', 'user_1', '--json'], createTestCtx({ env: env('generic'), now: NOW }));
    const out = py(
      `try:\n  jwt.decode(args["token"], "wrong", algorithms=["HS256"]); print('"accepted"')\nexcept jwt.InvalidSignatureError:\n  print('"InvalidSignatureError"')`,
      { token: r.json().token },
    );
    expect(out).toBe('InvalidSignatureError');
  });

  it('chatid verifies a Chatbase token made by PyJWT', async () => {
    const now = Math.floor(NOW.getTime() / 1000);
    const token = py(`print(json.dumps(jwt.encode(args["claims"], args["key"], algorithm="HS256")))`, { claims: { user_id: 'user_123', email: 'a@b.c', iat: now, exp: now + 3600 }, key: SECRET }) as string;
    const r = await runCli(['token', 'verify', token, '--json'], createTestCtx({ env: env('chatbase'), now: NOW }));
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ valid: true, secret: 'current', errors: [], payload: { user_id: 'user_123' } });
  });

  it('chatid verifies a Replyful token made by PyJWT, read from stdin', async () => {
    const now = Math.floor(NOW.getTime() / 1000);
    const token = py(`print(json.dumps(jwt.encode(args["claims"], args["key"], algorithm="HS256")))`, { claims: { userId: 'u_9', iat: now, exp: now + 3600, plan: 'pro' }, key: SECRET }) as string;
    const r = await runCli(['token', 'verify', '--json'], createTestCtx({ env: env('replyful'), now: NOW, stdin: `${token}\n` }));
    expect(r.exitCode).toBe(0);
    expect(r.json().valid).toBe(true);
  });

  it('chatid rejects PyJWT tokens with the usual mistakes, and says why', async () => {
    const now = Math.floor(NOW.getTime() / 1000);
    const cases: Array<[claims: Record<string, unknown>, key: string, alg: string, errors: string[], causes: string[]]> = [
      [{ user_id: 123, exp: now + 60 }, SECRET, 'HS256', ['USER_ID_NOT_STRING'], []],
      [{ user_id: 'u', exp: now + 60 }, `${SECRET}\n`, 'HS256', ['BAD_SIGNATURE'], ['SECRET_WHITESPACE']],
      [{ user_id: 'u', exp: (now + 3600) * 1000 }, SECRET, 'HS256', [], ['EXP_IN_MILLISECONDS']],
      [{ user_id: 'u', exp: now + 60 }, SECRET, 'HS512', ['ALG_NOT_ALLOWED'], []],
      [{ userId: 'u', exp: now + 60 }, SECRET, 'HS256', ['MISSING_USER_ID'], ['WRONG_PROVIDER_CLAIM']],
    ];
    for (const [claims, key, alg, errors, causes] of cases) {
      const token = py(`print(json.dumps(jwt.encode(args["claims"], args["key"], algorithm=args["alg"])))`, { claims, key, alg }) as string;
      const r = await runCli(['token', 'verify', token, '--json'], createTestCtx({ env: env('chatbase'), now: NOW }));
      const j = r.json();
      expect([r.exitCode, j.errors.map((e: any) => e.code), j.causes.map((c: any) => c.code)], JSON.stringify(claims)).toEqual([errors.length ? 3 : 0, errors, causes]);
    }
  });
});
