import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FcmConnection } from '../../lambda/adapters/secondary/fcm/fcm-gateway';
import { classifyFcmAnswer } from '../../lambda/domain/fcm-answer';
import { compileFcmMessage, fcmRequestBodies } from '../../lambda/domain/fcm-message';
import { normalizeSendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { parseWith } from '../../lambda/validation';
import { createLocalServiceAccount } from '../../local/fcm-credentials';
import { type FcmSimulator, startFcmSimulator } from '../../local/fcm-simulator/simulator';

/**
 * The FCM gateway against the FCM simulator over real HTTP/2 + TLS, with the real
 * google-auth-library fetching access tokens from the simulator's token endpoint.
 */
const PROJECT = 'pushgate-test';
let simulator: FcmSimulator;
let connection: FcmConnection;
let serviceAccount: ReturnType<typeof createLocalServiceAccount>;

function request(notificationId = 'n-1') {
  const job = normalizeSendJob(
    parseWith(sendJobSchema, {
      appId: 'com.example.app',
      to: { userIds: ['alice'] },
      aps: { alert: { title: 'Hi', body: 'there' } },
      data: { orderId: 7 },
    }),
    notificationId,
  );
  return { headers: { 'content-type': 'application/json' }, body: fcmRequestBodies(compileFcmMessage(job)) };
}

const tokens = (count: number, prefix = 'tok') =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}:APA91b-${'x'.repeat(100)}_${i}`);

beforeAll(async () => {
  simulator = await startFcmSimulator({
    serviceAccounts: [],
    maxConcurrentStreams: 100,
    countDuplicates: true,
  });
  const dir = mkdtempSync(join(tmpdir(), 'pushgate-fcm-'));
  serviceAccount = createLocalServiceAccount(join(dir, 'key.json'), PROJECT, simulator.tokenUri);
  simulator.addServiceAccount(serviceAccount.account);
  const key = JSON.parse((await import('node:fs')).readFileSync(serviceAccount.path, 'utf8'));
  connection = new FcmConnection(
    { projectId: PROJECT, serviceAccount: key },
    { address: simulator.endpoint, ca: simulator.ca },
    5_000,
  );
});

afterAll(async () => {
  await connection.close();
  await simulator.stop();
});

beforeEach(() => simulator.reset());

describe('the FCM gateway', () => {
  it('gets an access token through google-auth-library and delivers the v1 message to each token once', async () => {
    const sentTo = tokens(250);
    const answers = await connection.sendAll(request(), sentTo);
    expect(answers.map((answer) => classifyFcmAnswer(answer, Date.now()).kind)).toEqual(
      sentTo.map(() => 'accepted'),
    );
    const page = simulator.received.page();
    expect(page.total).toBe(250);
    expect(new Set(page.notifications.map((entry) => entry.token))).toEqual(new Set(sentTo));
    expect(page.notifications[0]).toMatchObject({
      projectId: PROJECT,
      message: {
        notification: { title: 'Hi', body: 'there' },
        data: { orderId: '7', pushgate: '{"id":"n-1"}' },
        android: { priority: 'HIGH' },
      },
    });
    expect(simulator.stats.maxInFlightPerSession).toBeLessThanOrEqual(100);
    expect(simulator.stats.accessTokensIssued).toBeLessThanOrEqual(1);
  });

  it('answers each scripted FCM error as the table says', async () => {
    const [unregistered, mismatch, badToken, badMessage, quota, unavailable] = tokens(6, 'fault');
    simulator.setFaults({
      tokens: {
        [unregistered as string]: { status: 404, errorCode: 'UNREGISTERED' },
        [mismatch as string]: { status: 403, errorCode: 'SENDER_ID_MISMATCH' },
        [badToken as string]: {
          status: 400,
          errorCode: 'INVALID_ARGUMENT',
          message: 'The registration token is not a valid FCM registration token',
        },
        [badMessage as string]: { status: 400, errorCode: 'INVALID_ARGUMENT' },
        [quota as string]: { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: 5 },
        [unavailable as string]: { status: 503, errorCode: 'UNAVAILABLE', retryAfter: 30 },
      },
    });
    const sentAt = Date.now();
    const answers = await connection.sendAll(request(), [
      unregistered,
      mismatch,
      badToken,
      badMessage,
      quota,
      unavailable,
    ] as string[]);
    expect(answers.map((answer) => classifyFcmAnswer(answer, sentAt))).toEqual([
      { kind: 'invalid-token', reason: 'UNREGISTERED', status: 404, timestamp: sentAt },
      { kind: 'invalid-token', reason: 'SENDER_ID_MISMATCH', status: 403 },
      { kind: 'invalid-token', reason: 'INVALID_ARGUMENT', status: 400 },
      {
        kind: 'job-error',
        reason: 'INVALID_ARGUMENT',
        status: 400,
        detail: 'Request contains an invalid argument.',
      },
      { kind: 'retryable', reason: 'QUOTA_EXCEEDED', status: 429, retryAfterSeconds: 60 },
      { kind: 'retryable', reason: 'UNAVAILABLE', status: 503, retryAfterSeconds: 30 },
    ]);
    expect(simulator.received.total).toBe(0);
    expect(simulator.faultReport().done.tokenFaults).toBe(6);
  });

  it('after a 401, drops the access token so the next request carries a fresh one', async () => {
    await connection.sendAll(request(), tokens(1));
    const issued = simulator.stats.accessTokensIssued;
    simulator.revokeAccessTokens();
    const [refused] = await connection.sendAll(request(), tokens(1, 'second'));
    expect(classifyFcmAnswer(refused ?? {}, Date.now())).toMatchObject({
      kind: 'credential-error',
      status: 401,
    });
    const [again] = await connection.sendAll(request(), tokens(1, 'third'));
    expect(classifyFcmAnswer(again ?? {}, Date.now()).kind).toBe('accepted');
    expect(simulator.stats.accessTokensIssued).toBe(issued + 1);
  });

  it('loses nothing and sends nothing twice under GOAWAYs and resets: every token answered, resets retried by the caller', async () => {
    simulator.setFaults({ connection: { goawayEvery: 70, resetEvery: 45 } });
    let pending = tokens(2_000, 'load');
    for (let round = 0; round < 5 && pending.length > 0; round++) {
      const answers = await connection.sendAll(request(), pending);
      pending = pending.filter((_, i) => classifyFcmAnswer(answers[i] ?? {}, Date.now()).kind !== 'accepted');
    }
    expect(pending).toEqual([]);
    const report = simulator.faultReport().done;
    expect(report.goaways).toBeGreaterThan(0);
    expect(report.resets).toBeGreaterThan(0);
    expect(simulator.received.total).toBe(2_000);
    expect(simulator.stats.duplicates).toBe(0);
  });
});
