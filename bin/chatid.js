#!/usr/bin/env node
// The published entry: the esbuild bundle made by `npm run build` (run by `npm ci` via `prepare`).
import '../dist/bin.js';
