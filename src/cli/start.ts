// Everything a command needs before it runs, as one dynamic import from bin.ts: one entry
// point for the bundler means fewer shared chunks (module files) on the start-up path.
export { main } from './main.js';
export { createRealCtx } from './real-context.js';
