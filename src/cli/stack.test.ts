import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { mapStack } from './stack.js';

const dir = mkdtempSync(join(tmpdir(), 'chatid-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mapStack', () => {
  it('points bundle frames at the TypeScript source line and column from the .map beside the chunk', () => {
    const src = 'export function boom(n: number): never {\n  const x: number = n * 2;\n  throw new Error(`bad ${x}`);\n}\n';
    const out = transformSync(src, { loader: 'ts', format: 'esm', sourcemap: 'external', sourcefile: '../../src/core/boom.ts' });
    const chunk = join(dir, 'dist', 'chunks');
    const js = join(chunk, 'boom-ABC.js');
    mkdirSync(chunk, { recursive: true });
    writeFileSync(js, out.code);
    writeFileSync(`${js}.map`, out.map);
    // The generated `throw` line: find it so the test does not depend on esbuild's layout.
    const lines = out.code.split('\n');
    const at = lines.findIndex((l) => l.includes('throw new Error'));
    const col = lines[at]!.indexOf('throw') + 1;
    const url = pathToFileURL(js).href;
    const stack = `Error: bad 2\n    at boom (${url}:${at + 1}:${col})\n    at node:internal/main:1:1\n    at other (file:///nowhere/x.js:1:1)`;
    const mapped = mapStack(stack).split('\n');
    expect(mapped[1]).toBe(`    at boom (${join(dir, 'src', 'core', 'boom.ts')}:3:3)`);
    expect(mapped[2]).toBe('    at node:internal/main:1:1');
    expect(mapped[3]).toBe('    at other (file:///nowhere/x.js:1:1)');
  });

  it('maps frames given as absolute paths, as the CommonJS bundle dist/cli.js shows them', () => {
    const src = 'export function boom(): never {\n  throw new Error("bad");\n}\n';
    const out = transformSync(src, { loader: 'ts', format: 'cjs', sourcemap: 'external', sourcefile: '../src/cli/boom.ts' });
    const js = join(dir, 'dist', 'cli.js');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(js, out.code);
    writeFileSync(`${js}.map`, out.map);
    const lines = out.code.split('\n');
    const at = lines.findIndex((l) => l.includes('throw new Error'));
    const col = lines[at]!.indexOf('throw') + 1;
    const stack = `Error: bad\n    at boom (${js}:${at + 1}:${col})\n    at ${js}:${at + 1}:${col}\n    at other (/nowhere/x.js:1:1)`;
    const mapped = mapStack(stack).split('\n');
    const want = `${join(dir, 'src', 'cli', 'boom.ts')}:2:3`;
    expect(mapped[1]).toBe(`    at boom (${want})`);
    expect(mapped[2]).toBe(`    at ${want}`);
    expect(mapped[3]).toBe('    at other (/nowhere/x.js:1:1)');
  });
});
