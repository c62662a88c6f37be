import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { SENDER_ACCESS } from '../../infra/function-access';
import { SENDER } from '../../infra/queue-settings';
import { closeApnsConnections } from '../../lambda/adapters/secondary/apns/apns-gateway';
import { deviceKey } from '../../lambda/adapters/secondary/devices-keys';
import { closeFcmConnections } from '../../lambda/adapters/secondary/fcm/fcm-gateway';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../lambda/adapters/secondary/http2/request-timeout';
import { ENVIRONMENT } from '../../lambda/environment';
import { metrics } from '../../lambda/metrics';
import { createLocalProviderKey } from '../../local/apns-credentials';
import { type ApnsSimulator, startApnsSimulator } from '../../local/apns-simulator/simulator';
import { createLocalServiceAccount } from '../../local/fcm-credentials';
import { type FcmSimulator, startFcmSimulator } from '../../local/fcm-simulator/simulator';
import { SqsEventSource } from '../../local/sqs-event-source';
import { api, newToken } from './api';
import { TEST_APP_ID, TEST_VISIBILITY_TIMEOUT_SECONDS } from './embedded-services';

/**
 * The APNs request timeout in tests, where none stalls a response on purpose: twice the
 * stack's, because on a busy 2-core machine the simulator (in the test's own process) can
 * take seconds to answer, and a request timed out after it was accepted is sent twice.
 * The sender keeps four of them and its bookkeeping in reserve before starting a chunk,
 * which the sender's timeout (as deployed, 120 s) still leaves room for.
 */
const TEST_REQUEST_TIMEOUT_MS = 2 * DEFAULT_REQUEST_TIMEOUT_MS;

/** The Firebase project of the test app when a harness gives it FCM. */
export const TEST_FCM_PROJECT = 'pushgate-test';

export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
export const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/**
 * The sender as deployed, offline: the APNs simulator, credentials for it, and an
 * SQS event source feeding the sender handler from the embedded send queue.
 */
export class SenderHarness {
  simulator!: ApnsSimulator;
  /** The FCM simulator, when started with `fcm: true`. */
  fcm?: FcmSimulator;
  source!: SqsEventSource;
  /** The credentials file the sender reads: `{keyId, teamId, key}`. */
  credentialsFile!: string;

  /**
   * `requestTimeoutMs`: the APNs request timeout. Short (1 s) only where a test stalls
   * a response on purpose; elsewhere long enough that a busy 2-core machine never
   * times out a request the simulator already accepted (which would send it twice).
   * `visibilityTimeoutSeconds`: see setVisibilityTimeout (the test queue's 60 s when absent).
   */
  async start(
    options: {
      maxConcurrentStreams?: number;
      requestTimeoutMs?: number;
      visibilityTimeoutSeconds?: number;
      /** Gives the app FCM too, on an FCM simulator of its own (`this.fcm`). */
      fcm?: boolean;
    } = {},
  ): Promise<this> {
    const dir = join(tmpdir(), `pushgate-test-${process.pid}-${Date.now()}`);
    const key = createLocalProviderKey(join(dir, 'apns.json'));
    this.credentialsFile = key.path;
    this.simulator = await startApnsSimulator({
      providerKeys: [key],
      bundleIds: [TEST_APP_ID],
      ...(options.maxConcurrentStreams === undefined
        ? {}
        : { maxConcurrentStreams: options.maxConcurrentStreams }),
    });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, this.simulator.ca);
    let fcm: { projectId: string; credentials: string } | undefined;
    if (options.fcm) {
      this.fcm = await startFcmSimulator({
        serviceAccounts: [],
        countDuplicates: true,
        ...(options.maxConcurrentStreams === undefined
          ? {}
          : { maxConcurrentStreams: options.maxConcurrentStreams }),
      });
      const account = createLocalServiceAccount(join(dir, 'fcm.json'), TEST_FCM_PROJECT, this.fcm.tokenUri);
      this.fcm.addServiceAccount(account.account);
      fcm = { projectId: TEST_FCM_PROJECT, credentials: `file:${account.path}` };
      // The FCM simulator's certificate is the APNs simulator's: one CA file for both.
      Object.assign(process.env, {
        [ENVIRONMENT.fcmEndpoint]: this.fcm.endpoint,
        [ENVIRONMENT.fcmCaFile]: caFile,
      });
    }
    Object.assign(process.env, {
      [ENVIRONMENT.apps]: JSON.stringify([
        {
          appId: TEST_APP_ID,
          bundleId: TEST_APP_ID,
          credentials: `file:${key.path}`,
          ...(fcm === undefined ? {} : { fcm }),
        },
      ]),
      [ENVIRONMENT.apnsEndpoints]: JSON.stringify(this.simulator.endpoints),
      [ENVIRONMENT.apnsCaFile]: caFile,
      [ENVIRONMENT.retryBaseDelaySeconds]: '0',
      [ENVIRONMENT.apnsRequestTimeoutMs]: String(options.requestTimeoutMs ?? TEST_REQUEST_TIMEOUT_MS),
    });
    await this.setVisibilityTimeout(options.visibilityTimeoutSeconds);
    await this.purge();
    this.source = new SqsEventSource({
      sqs,
      queueUrl: sendQueueUrl(),
      handler: async () =>
        (await import('../../lambda/adapters/primary/deliver-notifications/handler')).handler,
      functionName: 'pushgate-sender',
      access: SENDER_ACCESS,
      batchSize: 10,
      maxConcurrency: 2,
      timeoutMs: SENDER.timeoutSeconds * 1000,
      onError: (error) => console.error('sender invocation failed', error),
    });
    await this.source.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await closeApnsConnections();
    await this.simulator.stop();
    if (this.fcm !== undefined) {
      await closeFcmConnections();
      await this.fcm.stop();
    }
  }

  /**
   * How long the send queue hides a received message — for files or tests that wait for
   * SQS to deliver a failed message again (a chunk held by another invocation), so they
   * wait seconds, not a minute. The code path is the deployed one: the sender fails the
   * message and SQS brings it back when the timeout runs out. Without `seconds`, the
   * test queue's 60 s again.
   */
  async setVisibilityTimeout(seconds = TEST_VISIBILITY_TIMEOUT_SECONDS): Promise<void> {
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: sendQueueUrl(),
        Attributes: { VisibilityTimeout: String(seconds) },
      }),
    );
  }

  /** Empties both queues and the simulator, between tests. */
  async purge(): Promise<void> {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterQueueUrl() }));
    this.simulator.reset();
    this.fcm?.reset();
  }

  /** Publishes a job straight to the send queue, as another AWS service would. */
  async publish(job: unknown): Promise<void> {
    await sqs.send(new SendMessageCommand({ QueueUrl: sendQueueUrl(), MessageBody: JSON.stringify(job) }));
  }

  /** Publishes and waits until the sender has nothing left to do. */
  async deliver(job: unknown, timeoutMs = 120_000): Promise<void> {
    await this.publish(job);
    await this.source.idle(timeoutMs);
  }

  /** Everything on the dead-letter queue, with its reason attributes (drains it). */
  // biome-ignore lint/suspicious/noExplicitAny: DLQ bodies are whatever was sent, read freely by tests
  async deadLetters(): Promise<{ body: any; reason?: string; detail?: string }[]> {
    const all: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl(),
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 60,
        }),
      );
      if (Messages.length === 0) return all.map(describe);
      all.push(...Messages);
    }
  }

  /**
   * Runs `action` with a shorter request timeout (APNs and FCM), on fresh sessions: for a
   * test that stalls a response on purpose. Everywhere else the long default stays, so a
   * busy machine never times out a request the simulator has already accepted.
   */
  async withRequestTimeout<T>(ms: number, action: () => Promise<T>): Promise<T> {
    const before = process.env[ENVIRONMENT.apnsRequestTimeoutMs];
    process.env[ENVIRONMENT.apnsRequestTimeoutMs] = String(ms);
    await closeApnsConnections();
    await closeFcmConnections();
    try {
      return await action();
    } finally {
      process.env[ENVIRONMENT.apnsRequestTimeoutMs] = before;
      await closeApnsConnections();
      await closeFcmConnections();
    }
  }

  /** The tokens the FCM simulator accepted, oldest first. */
  fcmInboxTokens(): string[] {
    return (this.fcm?.received.entries ?? []).map((entry) => entry.token);
  }

  inboxTokens(): string[] {
    return this.simulator.inbox.map((entry) => entry.token);
  }

  /**
   * How an inbox differs from exactly one push per expected token (the APNs inbox unless
   * given another): `{ missing: [], duplicated: [], unexpected: [] }` when it does not.
   * Each list shows a few tokens and how many more, so a failed scale test prints its
   * gaps at a glance rather than a diff of ten thousand tokens.
   */
  inboxGaps(expected: Iterable<string>, inbox: readonly string[] = this.inboxTokens()): InboxGaps {
    const wanted = new Set(expected);
    const seen = new Set<string>();
    const duplicated = new Set<string>();
    const unexpected = new Set<string>();
    for (const token of inbox) {
      if (seen.has(token)) duplicated.add(token);
      else if (!wanted.has(token)) unexpected.add(token);
      seen.add(token);
    }
    const missing = [...wanted].filter((token) => !seen.has(token));
    return {
      missing: sample(missing),
      duplicated: sample([...duplicated]),
      unexpected: sample([...unexpected]),
    };
  }

  /** The provider key the sender signs with (to mint tokens as another container would). */
  providerKey(): { keyId: string; teamId: string; key: string } {
    return JSON.parse(readFileSync(this.credentialsFile, 'utf8'));
  }
}

function describe(message: Message) {
  return {
    body: JSON.parse(message.Body ?? 'null'),
    ...(message.MessageAttributes?.['pushgate-failure-reason']?.StringValue === undefined
      ? {}
      : { reason: message.MessageAttributes['pushgate-failure-reason'].StringValue }),
    ...(message.MessageAttributes?.['pushgate-failure-detail']?.StringValue === undefined
      ? {}
      : { detail: message.MessageAttributes['pushgate-failure-detail'].StringValue }),
  };
}

/**
 * Runs `action` and sums the sender's own metrics over every invocation it caused:
 * NotificationsAccepted, TokensPruned, DeliveriesRetried, DeliveriesDeadLettered, …
 * (the totals publishTally emits; metrics are not flushed in tests).
 */
export async function senderMetrics(action: () => Promise<void>): Promise<Record<string, number>> {
  const added = vi.spyOn(metrics, 'addMetric');
  try {
    await action();
    const totals: Record<string, number> = {};
    for (const [name, , value] of added.mock.calls) totals[name] = (totals[name] ?? 0) + Number(value);
    return totals;
  } finally {
    added.mockRestore();
  }
}

export const sendQueueUrl = () => process.env[ENVIRONMENT.sendQueue] ?? '';
export const deadLetterQueueUrl = () => process.env[ENVIRONMENT.deadLetterQueue] ?? '';

/** Registers `count` devices for a user through the API; returns their tokens. */
export async function registerDevices(
  userId: string,
  count: number,
  environment: 'sandbox' | 'production' = 'production',
): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = newToken();
    const answer = await api('PUT', `/v1/devices/${token}`, {
      as: userId,
      body: { appId: TEST_APP_ID, environment },
    });
    if (answer.status !== 201) throw new Error(`registration failed: ${answer.raw}`);
    tokens.push(token);
  }
  return tokens;
}

export async function deviceRecord(token: string) {
  return (
    await db.send(new GetCommand({ TableName: process.env[ENVIRONMENT.devicesTable], Key: deviceKey(token) }))
  ).Item;
}

export function alertJob(
  to: { userIds: string[] } | { tokens: string[] },
  extra: Record<string, unknown> = {},
) {
  return { appId: TEST_APP_ID, to, aps: { alert: { title: 'Hi', body: 'Your order shipped' } }, ...extra };
}

export interface InboxGaps {
  missing: string[];
  duplicated: string[];
  unexpected: string[];
}

/** The inbox as expected: what inboxGaps returns when nothing is missing, twice or foreign. */
export const NO_GAPS: InboxGaps = { missing: [], duplicated: [], unexpected: [] };

/** The first few items, then how many more there are. */
function sample(items: string[], shown = 3): string[] {
  return items.length <= shown ? items : [...items.slice(0, shown), `…and ${items.length - shown} more`];
}
