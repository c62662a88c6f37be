import { apnsEndpoint, loadCredentials } from '../adapters/secondary/apns/apns-credentials';
import { type ApnsConnection, apnsConnection } from '../adapters/secondary/apns/apns-gateway';
import {
  correctDeviceEnvironment,
  findDevices,
  listDevices,
  pruneDevice,
} from '../adapters/secondary/devices-table';
import {
  claimChunk,
  completedChunks,
  markChunkCompleted,
  releaseChunk,
} from '../adapters/secondary/notifications-table';
import { deadLetter, enqueue } from '../adapters/secondary/send-queue';
import { deliveryStatuses, recordDelivery } from '../adapters/secondary/tracking-table';
import { type AppConfig, config, findApp } from '../config';
import { type ApnsOutcome, classifyApnsAnswer, type RawApnsAnswer } from '../domain/apns-outcome';
import { type ApnsRequest, compileApnsRequest } from '../domain/apns-request';
import type { ApnsEnvironment } from '../domain/device';
import { tokenHash } from '../domain/device-token';
import { PushgateError } from '../domain/errors';
import { MAX_DELIVERY_ATTEMPTS, MAX_SQS_DELAY_SECONDS, retryDelaySeconds } from '../domain/retry-policy';
import { DEFAULT_MAX_REPUSHES, type DeliveryStatus } from '../domain/tracking';
import { type DeliveryTally, type DeviceTarget, partsOf, type Work } from '../domain/work';
import { logger } from '../observability';

/** Users, tokens or retried devices per progress chunk: the most a crash can send twice. */
const CHUNK_SIZE = { users: 100, tokens: 500, devices: 500 } as const;
/** Chunks in flight at once, so resolving one overlaps sending another. */
const CHUNK_CONCURRENCY = 4;
/** Parallel DynamoDB queries when resolving users to devices. */
const QUERY_CONCURRENCY = 16;
/** Below this much remaining time, hand the rest to a continuation message. */
const TIME_RESERVE_MS = 20_000;
/** How long a chunk is held by the invocation sending it: under the queue's visibility timeout (360 s). */
const CHUNK_LEASE_MS = 300_000;

/** The job cannot succeed as it is: it goes to the DLQ with this reason. */
export class JobFailedError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Retry {
  device: DeviceTarget;
  reason: string;
  retryAfterSeconds?: number;
}

/**
 * Delivers one unit of sender work.
 *
 * 1. Find the app and compile the APNs request once (unknown app, oversize
 *    payload → JobFailedError, the job goes to the DLQ).
 * 2. A first delivery naming more users or tokens than one invocation should
 *    handle is split into parts, enqueued as follow-up work; nothing is sent here.
 * 3. Skip the chunks a previous delivery of this same work already completed, and
 *    claim each remaining one before sending (a concurrent duplicate skips it).
 * 4. For each remaining chunk: resolve its devices, send over the warm session of
 *    each environment, and end every device in an outcome — accepted; pruned
 *    (invalid token; a 410 only if not re-registered since); re-queued with a
 *    growing delay (429, 5xx, connection loss); or, after the last attempt,
 *    dead-lettered with its reason. Then record the chunk as completed.
 * 5. Credential and request errors stop the job (JobFailedError).
 * 6. When time runs short, enqueue a continuation of this work and stop.
 * With `track.receipts`, each device's outcome is recorded; with
 * `repushAfterSeconds`, the accepted devices of each chunk get a re-push round
 * scheduled as a delayed message (chained past SQS's 15 minutes), which sends again
 * only to those that have not acknowledged by then — up to `maxRepushes` rounds.
 */
export async function deliverNotification(
  received: Work,
  tally: DeliveryTally,
  remainingTimeMs: () => number,
): Promise<void> {
  let work = received;
  const { job } = work;
  const app = findApp(job.appId);
  if (app === undefined)
    throw new JobFailedError('UnknownApp', `The app id "${job.appId}" is not configured.`);
  let request: ApnsRequest;
  try {
    request = compileApnsRequest(job, app.bundleId);
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError(error.code, error.message);
    throw error;
  }

  if (work.devices === undefined && (await splitIntoParts(work))) return;
  // Retries within a re-push round (attempt > 0) go to their devices as they are.
  if (work.repush !== undefined && work.attempt === 0) {
    const due = await dueRepush(work);
    if (due === undefined) return;
    work = due;
  }

  const chunks = chunksOf(work);
  const done = await completedChunks(job.notificationId, work.part, work.attempt);
  const pending = chunks.map((_, index) => index).filter((index) => !done.has(index));
  const sender = new ChunkSender(work, app, request, tally);

  let next = 0;
  let outOfTime = false;
  const worker = async () => {
    while (next < pending.length) {
      if (remainingTimeMs() < TIME_RESERVE_MS) {
        outOfTime = true;
        return;
      }
      const index = pending[next++] as number;
      if (!(await claimChunk(job.notificationId, work.part, work.attempt, index, CHUNK_LEASE_MS))) continue;
      try {
        await sender.deliverChunk(index, chunks[index] as Chunk);
      } catch (error) {
        // The job goes to the DLQ: free the chunk so that a redrive sends it now, not after the lease.
        if (error instanceof JobFailedError) {
          await releaseChunk(job.notificationId, work.part, work.attempt, index).catch((releaseError) =>
            logger.warn('could not release a dead-lettered chunk', { error: releaseError }),
          );
        }
        throw error;
      }
      await markChunkCompleted(job.notificationId, work.part, work.attempt, index);
    }
  };
  await Promise.all(Array.from({ length: CHUNK_CONCURRENCY }, worker));
  if (outOfTime) {
    logger.info('continuing delivery in a new message', {
      notificationId: job.notificationId,
      part: work.part,
    });
    await enqueue([{ body: JSON.stringify(work) }]);
  }
}

type Chunk = { users: string[] } | { tokens: string[] } | { devices: DeviceTarget[] };

function chunksOf(work: Work): Chunk[] {
  const slices = <T>(items: readonly T[], size: number) =>
    Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  if (work.devices !== undefined)
    return slices(work.devices, CHUNK_SIZE.devices).map((devices) => ({ devices }));
  const { to } = work.job;
  if ('userIds' in to) return slices([...new Set(to.userIds)], CHUNK_SIZE.users).map((users) => ({ users }));
  return slices([...new Set(to.tokens)], CHUNK_SIZE.tokens).map((tokens) => ({ tokens }));
}

/** Splits a first delivery that names too many users or tokens; true when it did. */
async function splitIntoParts(work: Work): Promise<boolean> {
  const parts = partsOf(work.job, work.part);
  if (parts.length <= 1) return false;
  await enqueue(parts.map((part) => ({ body: JSON.stringify(part) })));
  logger.info('split job into parts', { notificationId: work.job.notificationId, parts: parts.length });
  return true;
}

/**
 * A re-push round that is due: its devices that are still only `accepted` (no
 * receipt). Not yet due: the message is sent on again with the rest of the delay
 * (SQS delays at most 15 minutes) and undefined is returned.
 */
async function dueRepush(work: Work): Promise<Work | undefined> {
  const repush = work.repush as NonNullable<Work['repush']>;
  const waitSeconds = Math.ceil((repush.dueAt - Date.now()) / 1000);
  if (waitSeconds > 0) {
    await enqueue([
      { body: JSON.stringify(work), delaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, waitSeconds) },
    ]);
    return undefined;
  }
  const devices = work.devices ?? [];
  const statuses = await deliveryStatuses(
    work.job.notificationId,
    devices.map((d) => d.token),
  );
  return { ...work, devices: devices.filter((d) => statuses.get(d.token) === 'accepted') };
}

class ChunkSender {
  constructor(
    private readonly work: Work,
    private readonly app: AppConfig,
    private readonly request: ApnsRequest,
    private readonly tally: DeliveryTally,
  ) {}

  async deliverChunk(index: number, chunk: Chunk): Promise<void> {
    const devices = await this.resolve(chunk);
    const retries: Retry[] = [];
    const accepted: DeviceTarget[] = [];
    const byEnvironment = new Map<ApnsEnvironment, DeviceTarget[]>();
    for (const device of devices) {
      const list = byEnvironment.get(device.environment) ?? [];
      list.push(device);
      byEnvironment.set(device.environment, list);
    }
    await Promise.all(
      [...byEnvironment].map(async ([environment, targets]) => {
        const outcomes = await this.send(environment, targets);
        await mapConcurrent(targets, QUERY_CONCURRENCY, (device, i) =>
          this.settle(device, outcomes[i] as ApnsOutcome, retries, accepted),
        );
      }),
    );
    if (retries.length > 0) await this.requeue(index, retries);
    if (accepted.length > 0) await this.scheduleRepush(index, accepted);
  }

  /** Schedules the next re-push round for the devices APNs just accepted, if the job asks for one. */
  private async scheduleRepush(chunk: number, accepted: DeviceTarget[]): Promise<void> {
    const track = this.work.job.track;
    if (!track?.receipts || track.repushAfterSeconds === undefined) return;
    const round = (this.work.repush?.round ?? 0) + 1;
    if (round > (track.maxRepushes ?? DEFAULT_MAX_REPUSHES)) return;
    const next: Work = {
      pushgate: 'work/v1',
      job: this.work.job,
      part: `${this.work.part}/${chunk}r${round}`,
      attempt: 0,
      devices: accepted,
      repush: { round, dueAt: Date.now() + track.repushAfterSeconds * 1000 },
    };
    await enqueue([
      { body: JSON.stringify(next), delaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, track.repushAfterSeconds) },
    ]);
  }

  /** Records a device's outcome when the job is tracked (`track.receipts`); nothing otherwise. */
  private async track(
    device: DeviceTarget,
    status: DeliveryStatus,
    fields: { apnsId?: string; reason?: string } = {},
  ): Promise<void> {
    if (!this.work.job.track?.receipts) return;
    const now = new Date();
    await recordDelivery(
      this.work.job.notificationId,
      {
        token: device.token,
        userId: device.userId,
        status,
        ...fields,
        ...(status === 'accepted' ? { acceptedAt: now.toISOString() } : {}),
        ...(this.work.repush === undefined ? {} : { repushes: this.work.repush.round }),
      },
      now,
    );
  }

  private async resolve(chunk: Chunk): Promise<DeviceTarget[]> {
    const { appId } = this.work.job;
    if ('devices' in chunk) return chunk.devices;
    if ('users' in chunk) {
      const perUser = await mapConcurrent(chunk.users, QUERY_CONCURRENCY, (userId) =>
        listDevices(userId, appId),
      );
      return perUser.flat().map(({ token, userId, environment }) => ({ token, userId, appId, environment }));
    }
    const found = (await findDevices(chunk.tokens)).filter((device) => device.appId === appId);
    const unregistered = chunk.tokens.length - found.length;
    if (unregistered > 0) this.tally.add('unregistered', 'NotRegisteredForApp', unregistered);
    return found.map(({ token, userId, environment }) => ({ token, userId, appId, environment }));
  }

  private async connection(environment: ApnsEnvironment): Promise<ApnsConnection> {
    const credentials = await loadCredentials(this.app).catch((error) => {
      throw new JobFailedError('CredentialsUnavailable', (error as Error).message);
    });
    return apnsConnection(
      this.app.credentials ?? this.app.appId,
      credentials,
      environment,
      apnsEndpoint(environment),
      config.apnsRequestTimeoutMs,
    );
  }

  /**
   * Sends to every target and classifies the answers. Answers worth one immediate
   * retry get it here: ExpiredProviderToken (node-apn has minted a new JWT) and a
   * lost connection (GOAWAY, reset: node-apn reconnects). A BadDeviceToken is tried
   * once in the other environment before the token is called invalid.
   */
  private async send(environment: ApnsEnvironment, targets: DeviceTarget[]): Promise<ApnsOutcome[]> {
    const connection = await this.connection(environment);
    const tokens = targets.map((t) => t.token);
    const answers = await connection.sendAll(this.request, tokens);
    const again = answers.flatMap((answer, i) => (worthImmediateRetry(answer) ? [i] : []));
    if (again.length > 0) {
      const second = await connection.sendAll(
        this.request,
        again.map((i) => tokens[i] as string),
      );
      again.forEach((i, j) => {
        answers[i] = second[j] as RawApnsAnswer;
      });
    }
    const outcomes = answers.map(classifyApnsAnswer);
    const badTokens = outcomes.flatMap((o, i) =>
      o.kind === 'invalid-token' && o.reason === 'BadDeviceToken' ? [i] : [],
    );
    if (badTokens.length > 0) {
      const other: ApnsEnvironment = environment === 'production' ? 'sandbox' : 'production';
      const elsewhere = await (await this.connection(other)).sendAll(
        this.request,
        badTokens.map((i) => tokens[i] as string),
      );
      await Promise.all(
        badTokens.map(async (i, j) => {
          const outcome = classifyApnsAnswer(elsewhere[j] as RawApnsAnswer);
          if (outcome.kind === 'accepted') {
            const target = targets[i] as DeviceTarget;
            await correctDeviceEnvironment(target, other);
            target.environment = other;
            outcomes[i] = outcome;
          }
        }),
      );
    }
    const fatal = outcomes.find((o) => o.kind === 'credential-error' || o.kind === 'job-error');
    if (fatal !== undefined && 'status' in fatal) {
      throw new JobFailedError(
        fatal.reason,
        `APNs answered ${fatal.status} ${fatal.reason}; the job stops here.`,
      );
    }
    return outcomes;
  }

  private async settle(
    device: DeviceTarget,
    outcome: ApnsOutcome,
    retries: Retry[],
    accepted: DeviceTarget[],
  ): Promise<void> {
    switch (outcome.kind) {
      case 'accepted':
        this.tally.add('accepted');
        accepted.push(device);
        await this.track(device, 'accepted', outcome.apnsId === undefined ? {} : { apnsId: outcome.apnsId });
        return;
      case 'invalid-token': {
        const since =
          outcome.status === 410 && outcome.timestamp !== undefined ? new Date(outcome.timestamp) : undefined;
        const pruned = await pruneDevice(device, since);
        this.tally.add(pruned ? 'pruned' : 'kept', outcome.reason);
        await this.track(device, pruned ? 'pruned' : 'failed', { reason: outcome.reason });
        logger.info(pruned ? 'pruned invalid token' : 'kept token re-registered after APNs invalidated it', {
          token: tokenHash(device.token),
          reason: outcome.reason,
        });
        return;
      }
      case 'retryable':
        await this.track(device, 'queued', { reason: outcome.reason });
        retries.push({
          device,
          reason: outcome.reason,
          ...(outcome.retryAfterSeconds === undefined
            ? {}
            : { retryAfterSeconds: outcome.retryAfterSeconds }),
        });
        return;
      default:
        throw new JobFailedError(outcome.reason, `APNs refused the request: ${outcome.reason}`);
    }
  }

  /** Re-queues exactly the devices that need a retry, or dead-letters them after the last attempt. */
  private async requeue(chunk: number, retries: Retry[]): Promise<void> {
    const attempt = this.work.attempt + 1;
    const reasons = Object.fromEntries(retries.map((r) => [tokenHash(r.device.token), r.reason]));
    const retry: Work = {
      pushgate: 'work/v1',
      job: this.work.job,
      part: `${this.work.part}/${chunk}`,
      attempt,
      devices: retries.map((r) => r.device),
      reasons,
      ...(this.work.repush === undefined ? {} : { repush: this.work.repush }),
    };
    if (attempt >= MAX_DELIVERY_ATTEMPTS) {
      const summary = [...new Set(retries.map((r) => r.reason))].join(', ');
      await deadLetter(
        JSON.stringify(retry),
        'RetriesExhausted',
        `${retries.length} devices still failing: ${summary}`,
      );
      for (const r of retries) {
        this.tally.add('deadLettered', r.reason);
        await this.track(r.device, 'failed', { reason: `${r.reason} (retries exhausted)` });
      }
      logger.error('dead-lettered devices after the last attempt', {
        notificationId: this.work.job.notificationId,
        devices: retries.length,
        reasons: summary,
      });
      return;
    }
    const retryAfter = Math.max(0, ...retries.map((r) => r.retryAfterSeconds ?? 0));
    const delaySeconds = retryDelaySeconds(attempt, retryAfter, config.retryBaseDelaySeconds);
    await enqueue([{ body: JSON.stringify(retry), delaySeconds }]);
    for (const r of retries) this.tally.add('retried', r.reason);
  }
}

function worthImmediateRetry(answer: RawApnsAnswer): boolean {
  return (
    answer.transportError === 'ConnectionError' ||
    (answer.status === 403 && answer.reason === 'ExpiredProviderToken')
  );
}

async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
