import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * A lock file that names its holder: the pid and, on Linux, the process's start time,
 * so a holder that is gone — killed, a zombie, or its pid reused by another program —
 * no longer holds it. Enough to keep two `npm start` off one data directory.
 */
export class PidLock {
  private readonly mine = `${process.pid} ${startTime(process.pid) ?? ''}`;

  private constructor(private readonly file: string) {}

  /** Takes the lock, or throws naming the live holder. */
  static take(file: string, inUse: (pid: number) => string): PidLock {
    const lock = new PidLock(file);
    try {
      writeFileSync(file, lock.mine, { flag: 'wx' });
      return lock;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [pid = '', started = ''] = readFileSync(file, 'utf8').split(' ');
    const current = startTime(Number(pid));
    if (current !== undefined && (current === '' || started === '' || current === started)) {
      throw new Error(inUse(Number(pid)));
    }
    writeFileSync(file, lock.mine);
    return lock;
  }

  release(): void {
    try {
      if (readFileSync(this.file, 'utf8') === this.mine) rmSync(this.file);
    } catch {
      // Already gone.
    }
  }
}

/** The process's start time (Linux), '' where unknown, undefined when no live process has this pid. */
function startTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After "pid (comm) ": state is the first field, starttime the twentieth.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[0] === 'Z' ? undefined : (fields[19] ?? '');
    } catch {
      return undefined;
    }
  }
  try {
    process.kill(pid, 0);
    return '';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
  }
}
