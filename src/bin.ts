// The executable's entry: runs main and sets the exit status; nothing else (STYLE.md §6).
import { main } from './cli/main.js';
import { createRealCtx } from './cli/real-context.js';

process.exitCode = await main(process.argv.slice(2), createRealCtx());
