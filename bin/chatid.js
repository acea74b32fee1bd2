#!/usr/bin/env node
// The published entry: the esbuild bundle made by `npm run build` (run by `npm ci` via `prepare`).
// CommonJS (bin/package.json), like dist/: an ESM entry would start Node's ESM loader (≈ 10 M
// instructions) before anything runs. docs/performance.md.
/* global require */
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../dist/bin.js');
