import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Offline {
  base: string;
  /** The offline SQS port (PUSHGATE_SQS_PORT). */
  sqsPort: number;
  adminKey: string;
  home: string;
  process: ChildProcess;
  output: () => string;
  /** Signals the whole process group (npm and everything under it) and waits until npm exits. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves once no process of the group is left (npm may exit before pushgate under it). */
  groupGone(timeoutMs?: number): Promise<void>;
}

/** Spawns `npm start` as a newcomer would, and waits until it says it is running. */
export async function startOffline(
  options: {
    port?: number;
    sqsPort?: number;
    home?: string;
    memory?: boolean;
    /** `false`: no PUSHGATE_ADMIN_KEY, so npm start uses the key kept in its home. */
    adminKey?: string | false;
  } = {},
): Promise<Offline> {
  const port = options.port ?? (await freePort());
  // Never PORT+1 by default here: tests run beside other suites, so that port may be taken.
  const sqsPort = options.sqsPort ?? (await freePort());
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'pushgate-offline-'));
  const fixedKey = options.adminKey === false ? undefined : (options.adminKey ?? 'test-admin-key');
  const { PUSHGATE_ADMIN_KEY: _inherited, ...environment } = process.env;
  const child = spawn('npm', ['start', '--', ...(options.memory === false ? [] : ['--memory'])], {
    env: {
      ...environment,
      PORT: String(port),
      PUSHGATE_SQS_PORT: String(sqsPort),
      ...(fixedKey === undefined ? {} : { PUSHGATE_ADMIN_KEY: fixedKey }),
      PUSHGATE_HOME: home,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a "Ctrl-C" reaches npm and everything under it, as in a terminal.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not come up in 90 s:\n${output}`)),
      90_000,
    );
    const check = setInterval(() => {
      if (output.includes('pushgate is running offline')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  const adminKey = fixedKey ?? /admin key\s+(\S+)/.exec(output)?.[1];
  if (adminKey === undefined) throw new Error(`npm start printed no admin key:\n${output}`);
  return {
    base: `http://127.0.0.1:${port}`,
    sqsPort,
    adminKey,
    home,
    process: child,
    output: () => output,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, signal);
      return exited;
    },
    async groupGone(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (child.pid !== undefined && groupAlive(child.pid)) {
        if (Date.now() > deadline)
          throw new Error(`npm start's processes still run after ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** A live (not zombie) process in the group; zombies linger where PID 1 does not reap orphans. */
function groupAlive(pgid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .some((pid) => {
        try {
          // pid (comm) state ppid pgrp …: comm may hold spaces, so read after its closing parenthesis.
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return Number(pgrp) === pgid && state !== 'Z';
        } catch {
          return false;
        }
      });
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
