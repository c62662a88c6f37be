import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_PLACEHOLDER } from '../../lambda/adapters/secondary/apns/credentials-placeholder';
import { ENVIRONMENT } from '../../lambda/environment';
import type { RedriveJson, RedriveResult } from '../../scripts/redrive';
import { newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import {
  alertJob,
  deadLetterQueueUrl,
  registerDevices,
  SenderHarness,
  sendQueueUrl,
  sqs,
} from '../support/sender-harness';

const run = promisify(execFile);
/**
 * Above a pass's own bound (its watch: 60 s by default) on a busy machine, below the test's
 * timeout: a pass that never ends is killed and fails the test with its output.
 */
const REDRIVE_BOUND_MS = 100_000;
const harness = new SenderHarness();
/** Where the redrive tool keeps its dry-run listings (its TMPDIR): this file's own. */
const listings = mkdtempSync(join(tmpdir(), 'pushgate-redrive-listings-'));
afterAll(() => rmSync(listings, { recursive: true, force: true }));
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** `npm run redrive -- …` as an operator runs it: a process of its own, no AWS credentials needed offline. */
async function redrive(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_SQS', 'AWS_PROFILE'])
    delete env[name];
  env.TMPDIR = listings;
  return run(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/redrive.ts', ...args], {
    env,
    // A pass that never ends (as when re-dead-lettered jobs were moved again and again) is killed.
    timeout: REDRIVE_BOUND_MS,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const offlineQueues = () => [
  '--endpoint-url',
  process.env.AWS_ENDPOINT_URL_SQS ?? '',
  '--send-queue-url',
  sendQueueUrl(),
  '--dead-letter-queue-url',
  deadLetterQueueUrl(),
];

/** Everything visible on a queue, made visible again at once: a look that changes nothing. */
async function peek(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    all.push(...Messages);
  }
  for (let start = 0; start < all.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: all.slice(start, start + 10).map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return all;
}

async function waitingOn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('npm run redrive', () => {
  it('--help answers without credentials or queues', async () => {
    const help = await run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/redrive.ts', '--help'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
      },
    );
    expect(help.stdout).toContain('Usage: npm run redrive');
    expect(help.stdout).toContain('--dry-run');
    const wrong = await redrive('--dry-run');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Say where the queues are');
  });

  it('lists dead-lettered jobs by reason without changing anything, then moves them back and they are delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushgate-redrive-'));
    const apps = process.env[ENVIRONMENT.apps] ?? '[]';
    const [configured] = JSON.parse(apps) as { credentials: string }[];
    const keyFile = configured?.credentials.slice('file:'.length) ?? '';
    // The app's credentials still hold the placeholder the stack creates.
    const credentialsFile = join(dir, 'apns.json');
    writeFileSync(credentialsFile, CREDENTIALS_PLACEHOLDER);
    process.env[ENVIRONMENT.apps] = JSON.stringify([
      { appId: TEST_APP_ID, bundleId: TEST_APP_ID, credentials: `file:${credentialsFile}` },
    ]);
    try {
      const [alice, bob] = [newUser('alice'), newUser('bob')];
      const [aliceToken] = await registerDevices(alice, 1);
      const [bobToken] = await registerDevices(bob, 1);

      // Three ways onto the DLQ: the sender's own (credentials, a bad job) and SQS's redrive policy,
      // which moves a message as it was, with no pushgate reason.
      // With its id, as the API enqueues it: the redriven job is the same notification, not a new one.
      await harness.deliver(alertJob({ userIds: [alice] }, { notificationId: 'redrive-alice-1' }));
      await harness.deliver('this is not a job');
      const bobJob = alertJob({ userIds: [bob] }, { notificationId: 'redrive-bob-1' });
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueueUrl(),
          MessageBody: JSON.stringify(bobJob),
          MessageAttributes: { 'trace-id': { DataType: 'String', StringValue: 'abc-123' } },
        }),
      );
      expect(harness.inboxTokens()).toEqual([]);
      const before = (await peek(deadLetterQueueUrl())).map((m) => m.Body).sort();
      expect(before).toHaveLength(3);

      const dryRun = await redrive(...offlineQueues(), '--dry-run', '--json');
      expect(dryRun.code, dryRun.stderr).toBe(0);
      const listed = JSON.parse(dryRun.stdout) as RedriveResult;
      expect(listed.found).toBe(3);
      expect(listed.moved).toBe(0);
      expect(
        Object.fromEntries(Object.entries(listed.byReason).map(([reason, g]) => [reason, g.count])),
      ).toEqual({
        CredentialsUnavailable: 1,
        InvalidJob: 1,
        MaxReceiveCountExceeded: 1,
      });
      expect(listed.byReason.MaxReceiveCountExceeded?.notificationIds).toEqual(['redrive-bob-1']);
      // The sender says which credentials to fill and that they still hold the placeholder.
      expect(listed.byReason.CredentialsUnavailable?.detail).toContain(`file:${credentialsFile}`);
      expect(listed.byReason.CredentialsUnavailable?.detail).toContain('still holds the placeholder');
      // Nothing changed: the same three jobs, visible at once; nothing sent.
      expect((await peek(deadLetterQueueUrl())).map((m) => m.Body).sort()).toEqual(before);
      expect(await waitingOn(sendQueueUrl())).toBe(0);
      const human = await redrive(...offlineQueues(), '--dry-run');
      expect(human.stdout).toMatch(/CredentialsUnavailable\s+1/);
      expect(human.stdout).toContain('Dry run: nothing was moved.');

      // The operator fills the credentials, then moves back what can now succeed — with the sender
      // paused here, to look at what lands on the send queue.
      copyFileSync(keyFile, credentialsFile);
      await harness.source.stop();
      const moved = await redrive(
        ...offlineQueues(),
        '--reason',
        'CredentialsUnavailable',
        '--reason',
        'MaxReceiveCountExceeded',
        // The sender is paused: nothing can fail again yet, so do not watch for it.
        '--wait',
        '0',
        '--json',
      );
      expect(moved.code, moved.stderr).toBe(0);
      expect((JSON.parse(moved.stdout) as RedriveResult).moved).toBe(2);
      const requeued = await peek(sendQueueUrl());
      expect(requeued.map((m) => JSON.parse(m.Body ?? '').notificationId).sort()).toEqual([
        'redrive-alice-1',
        'redrive-bob-1',
      ]);
      const bobs = requeued.find((m) => m.Body === JSON.stringify(bobJob));
      expect(bobs?.MessageAttributes?.['trace-id']?.StringValue).toBe('abc-123');
      for (const message of requeued) {
        expect(
          Object.keys(message.MessageAttributes ?? {}).filter((name) => name.startsWith('pushgate-')),
        ).toEqual([]);
      }
      // Only the bad job is left on the DLQ.
      const left = await peek(deadLetterQueueUrl());
      expect(left.map((m) => m.Body)).toEqual([JSON.stringify('this is not a job')]);

      await harness.source.start();
      await harness.source.idle(120_000);
      expect(harness.inboxTokens().sort()).toEqual([aliceToken, bobToken].sort());
      expect(await waitingOn(deadLetterQueueUrl())).toBe(1);
    } finally {
      process.env[ENVIRONMENT.apps] = apps;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes one pass: jobs that fail again stay on the DLQ and are reported, the good one is delivered, and the run ends', async () => {
    const carol = newUser('carol');
    const [carolToken] = await registerDevices(carol, 1);
    // Two jobs that can never succeed, as the sender dead-lettered them, and one that can now.
    await harness.deliver('never a job');
    await harness.deliver(
      alertJob({ userIds: [carol] }, { appId: 'com.unknown.app', notificationId: 'redrive-unknown-1' }),
    );
    const good = alertJob({ userIds: [carol] }, { notificationId: 'redrive-carol-1' });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: deadLetterQueueUrl(), MessageBody: JSON.stringify(good) }),
    );
    expect(await waitingOn(deadLetterQueueUrl())).toBe(3);

    const pass = await redrive(...offlineQueues(), '--json');
    // Exit 1: some jobs failed again (the operator has something to look at).
    expect(pass.code, pass.stderr).toBe(1);
    const result = JSON.parse(pass.stdout) as RedriveJson;
    expect(result.found).toBe(3);
    expect(result.moved).toBe(3);
    expect(result.failedAgain.map((job) => job.reason).sort()).toEqual(['InvalidJob', 'UnknownApp']);
    expect(result.failedAgain.find((job) => job.reason === 'UnknownApp')?.notificationId).toBe(
      'redrive-unknown-1',
    );
    expect(result.notSeenBack).toBe(1);
    expect(result.drained).toBe(true);
    // The field's first name, kept for scripts that read it until the next major release.
    expect(result.settled).toBe(true);

    await harness.source.idle(120_000);
    expect(harness.inboxTokens()).toEqual([carolToken]);
    // The two are back on the DLQ, once each: nothing moved them a second time.
    const left = await peek(deadLetterQueueUrl());
    expect(left.map((m) => m.MessageAttributes?.['pushgate-failure-reason']?.StringValue).sort()).toEqual([
      'InvalidJob',
      'UnknownApp',
    ]);

    // The human report names them.
    const again = await redrive(...offlineQueues(), '--reason', 'InvalidJob', '--wait', '30');
    expect(again.stdout).toContain('1 failed again and are back on the dead-letter queue:');
    expect(again.stdout).toMatch(/InvalidJob\s+\(no notification id\)/);
  });

  it('--discard removes only the listed jobs of the named reasons, after a dry run and with --yes', async () => {
    await harness.deliver('not a job either');
    await harness.deliver(
      alertJob({ userIds: ['dave'] }, { appId: 'com.unknown.app', notificationId: 'redrive-unknown-2' }),
    );

    const unconfirmed = await redrive(...offlineQueues(), '--discard', '--reason', 'InvalidJob');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('add --yes');
    const unnamed = await redrive(...offlineQueues(), '--discard', '--yes');
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('--discard needs --reason');

    for (const folder of readdirSync(listings))
      rmSync(join(listings, folder), { recursive: true, force: true });
    const unlisted = await redrive(...offlineQueues(), '--discard', '--reason', 'InvalidJob', '--yes');
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toContain('run with --dry-run first');
    expect(await waitingOn(deadLetterQueueUrl())).toBe(2);

    const listed = await redrive(...offlineQueues(), '--dry-run', '--json');
    expect((JSON.parse(listed.stdout) as RedriveResult).found).toBe(2);
    // A reason the listing does not have (a typo) is refused, naming what it does have.
    const mistyped = await redrive(...offlineQueues(), '--discard', '--reason', 'InvalidJobs', '--yes');
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).toContain('The last dry run listed no job of reason InvalidJobs');
    expect(mistyped.stderr).toMatch(/InvalidJob 1, UnknownApp 1|UnknownApp 1, InvalidJob 1/);
    expect(await waitingOn(deadLetterQueueUrl())).toBe(2);
    // Arrives after the operator looked: not discarded unseen.
    await harness.deliver('arrived after the listing');

    const discard = await redrive(
      ...offlineQueues(),
      '--discard',
      '--reason',
      'InvalidJob',
      '--reason',
      'UnknownApp',
      '--yes',
    );
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.stdout).toContain('Discarded 2 job(s)');
    expect(discard.stdout).toContain('redrive-unknown-2');
    expect(discard.stdout).toContain('1 job(s) of those reasons arrived after the dry run and were kept');
    const left = await peek(deadLetterQueueUrl());
    expect(left.map((m) => m.Body)).toEqual([JSON.stringify('arrived after the listing')]);
    expect(await waitingOn(sendQueueUrl())).toBe(0);
  });

  it('Ctrl-C stops a pass without hiding or duplicating anything: what it held is visible again at once', async () => {
    const job = alertJob({ userIds: ['erin'] }, { notificationId: 'redrive-erin-1' });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: deadLetterQueueUrl(), MessageBody: JSON.stringify(job) }),
    );
    // The sender paused: the moved job waits on the send queue, so the pass keeps watching.
    await harness.source.stop();
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: listings };
      for (const name of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_ENDPOINT_URL_SQS',
        'AWS_PROFILE',
      ])
        delete env[name];
      const child = spawn(
        process.execPath,
        [
          'node_modules/tsx/dist/cli.mjs',
          'scripts/redrive.ts',
          ...offlineQueues(),
          '--wait',
          '600',
          '--json',
        ],
        { env },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const watching = new Promise<void>((resolve) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('watching up to')) resolve();
        });
      });
      try {
        await Promise.race([
          watching,
          ended.then((code) => {
            throw new Error(`redrive ended (${code}) before watching: ${stderr}`);
          }),
        ]);
        // A new failure arrives while the pass watches: the pass receives it, and holds it.
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: deadLetterQueueUrl(),
            MessageBody: JSON.stringify('arrived during the watch'),
          }),
        );
        const heldBy = Date.now() + 30_000;
        for (;;) {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: deadLetterQueueUrl(),
              AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          if (Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 1) break;
          if (Date.now() > heldBy) throw new Error('the pass never received the new arrival');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
      child.kill('SIGINT');
      const code = await ended;
      expect(code, stderr).toBe(130);
      const result = JSON.parse(stdout) as RedriveResult;
      expect(result).toMatchObject({ interrupted: true, moved: 1, notDeleted: 0 });
      // Held no longer: the new arrival is visible on the DLQ now, not in 15 minutes.
      expect((await peek(deadLetterQueueUrl())).map((m) => m.Body)).toEqual([
        JSON.stringify('arrived during the watch'),
      ]);
      // The moved job is on the send queue once, and gone from the DLQ.
      expect((await peek(sendQueueUrl())).map((m) => m.Body)).toEqual([JSON.stringify(job)]);
    } finally {
      await harness.source.start();
    }
  });
});
