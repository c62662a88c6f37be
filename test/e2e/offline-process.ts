import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
  adminKey: string;
  home: string;
  process: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `npm start` as a newcomer would, and waits until it says it is running. */
export async function startOffline(
  options: { port?: number; home?: string; memory?: boolean } = {},
): Promise<Offline> {
  const port = options.port ?? (await freePort());
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'pushgate-offline-'));
  const adminKey = 'test-admin-key';
  const child = spawn('npm', ['start', '--', ...(options.memory === false ? [] : ['--memory'])], {
    env: { ...process.env, PORT: String(port), PUSHGATE_ADMIN_KEY: adminKey, PUSHGATE_HOME: home },
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
  return {
    base: `http://127.0.0.1:${port}`,
    adminKey,
    home,
    process: child,
    output: () => output,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, signal);
      return exited;
    },
  };
}
