import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Seconds from `npm start` to "pushgate is running offline", median of three (target < 10 s). */
export async function benchStartup(): Promise<{ secondsMedian: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await startOnce());
  const sorted = [...runs].sort((a, b) => a - b);
  return { secondsMedian: sorted[1] ?? Number.NaN, runs };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function startOnce(): Promise<number> {
  const [port, sqsPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn('npm', ['start', '--', '--memory'], {
    env: {
      ...process.env,
      PORT: String(port),
      PUSHGATE_SQS_PORT: String(sqsPort),
      PUSHGATE_HOME: mkdtempSync(join(tmpdir(), 'pushgate-bench-')),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('pushgate is running offline')) {
          resolve(Math.round((performance.now() - started) / 100) / 10);
        }
      });
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    });
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
