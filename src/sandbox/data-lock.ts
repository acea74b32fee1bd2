/**
 * One sandbox per --data file. Two sandboxes on one file (the second started with another
 * --port, as the port-in-use hint suggests) would each save their own state over the other's,
 * losing whatever the other was sent. `<file>.lock` names the holder; a lock left by a sandbox
 * that is gone is taken over (the rules of src/store/process-lock.ts, as for contacts sync's
 * checkpoint).
 */
import { StoreError, UsageError } from '../cli/errors.js';
import { BAD_PATH_CODES, pathProblem, type ProcessLock, type ProcessProbe, takeProcessLock } from '../store/process-lock.js';

export async function lockDataFile(file: string, o: { now: () => Date; probe?: ProcessProbe }): Promise<ProcessLock> {
  const path = `${file}.lock`;
  const cannot = (what: string, err: unknown, exit2: boolean) =>
    new (exit2 ? UsageError : StoreError)('ERR_SANDBOX_DATA_LOCK', `Cannot ${what} the lock ${path} of the --data file: ${pathProblem(err)}.`, {
      hint: exit2 ? 'Pass --data <file> in a directory that exists and that you can write to.' : `If no sandbox uses ${file}, delete ${path} (as its owner) and start again.`,
      cause: err,
    });
  return takeProcessLock(path, {
    input: file,
    doing: 'serving',
    now: o.now,
    ...(o.probe ? { probe: o.probe } : {}),
    errors: {
      cannotCreate: (err) => cannot('create', err, BAD_PATH_CODES.has((err as NodeJS.ErrnoException).code ?? '')),
      cannotRead: (err) => cannot('read', err, false),
      cannotTakeOver: (_lock, err) => cannot('take over', err, false),
      held: ({ who, owner, otherHost }) =>
        new UsageError('ERR_SANDBOX_DATA_IN_USE', `${file} is in use by another sandbox (${who}); two sandboxes saving one file would lose each other's changes.`, {
          hint: `Stop the other sandbox first, or give this one its own file (--data other.json).${!owner || otherHost ? ` If no sandbox uses it, delete ${path}.` : ''}`,
          details: { lock: path, ...(owner ? { holder: { pid: owner.pid, host: owner.host, since: owner.since } } : {}) },
        }),
    },
  });
}
