// Types of scripts/build.mjs for the TypeScript tests that build the CLI privately.
export declare const HEAVY: string[];
/** Build the CLI into `outdir` (default dist/); returns the path of bin.js there. */
export declare function buildCli(o?: { outdir?: string; codeCache?: boolean; sourcemap?: boolean | 'linked' | 'inline' | 'external' | 'both' }): Promise<string>;
