import type { RawApnsAnswer } from '../../lambda/domain/apns-answer';
import type { AppConfig } from '../../lambda/domain/app';
import type { DeliveryTally } from '../../lambda/domain/delivery-tally';
import { type Device, type DeviceRegistration, deviceExpiry } from '../../lambda/domain/device';
import { type DeviceSet, emptyDeviceSet, type HeldDevice } from '../../lambda/domain/device-set';
import { DeviceNotFoundError, LiveActivityTokenNotFoundError } from '../../lambda/domain/errors';
import type { RawFcmAnswer } from '../../lambda/domain/fcm-answer';
import type { LeanPlan } from '../../lambda/domain/lean-job';
import type { LiveActivityTokenState } from '../../lambda/domain/live-activity';
import { activityTarget, pushToStartTarget } from '../../lambda/domain/live-activity-targets';
import type {
  ChunkRecord,
  LeanClaim,
  LeanClaimExpectation,
  NotificationTracking,
  SendRequestRecord,
} from '../../lambda/domain/notification-records';
import type { PushDevice } from '../../lambda/domain/push-device';
import type { DeadLetteredPart } from '../../lambda/domain/send-status';
import type { Receipt, ReceiptEvent } from '../../lambda/domain/tracking';
import type {
  DeviceRegistry,
  LiveActivityRegistry,
  Metrics,
  NotificationRecords,
  Ports,
  PushProviders,
  SendQueue,
  TrackingStore,
} from '../../lambda/use-cases/ports';
import type { OutgoingMessage } from '../../lambda/use-cases/ports/send-queue';

/**
 * In-memory fakes of every port, for the use cases' unit tests: each keeps its state
 * in plain maps and answers as the real adapter does for what the tests exercise (a
 * conditional write that finds the item taken, a device another user holds answering
 * DeviceNotFound, a set at its cap evicting the least recently seen). What they leave
 * out is the storage itself — keys, shards, expressions, retries of throttled calls —
 * which the integration tests check against the embedded DynamoDB and SQS. The state
 * is public, so a test reads what a use case wrote without another call through it.
 */

export const FAKE_APP: AppConfig = {
  appId: 'com.example.app',
  bundleId: 'com.example.app',
  fcm: { projectId: 'example-project' },
};

export class InMemoryDeviceRegistry implements DeviceRegistry {
  /** Token records, by token: who registered each last. */
  readonly records = new Map<string, Device>();
  /** Device sets, by user: who holds what now. */
  readonly sets = new Map<string, DeviceSet>();
  readonly generations = new Map<string, number>();

  private setOf(userId: string): DeviceSet {
    let set = this.sets.get(userId);
    if (set === undefined) {
      set = emptyDeviceSet(userId);
      set.generation = this.generations.get(userId) ?? 0;
      this.sets.set(userId, set);
    }
    return set;
  }

  async saveDevice(registration: DeviceRegistration, now: Date, maxDevices: number) {
    const { token, userId } = registration;
    const previous = this.records.get(token);
    const platform = registration.platform ?? 'ios';
    const refreshed = previous?.userId === userId && this.setOf(userId).devices.has(token);
    if (previous !== undefined && previous.userId !== userId) {
      const holder = this.sets.get(previous.userId);
      holder?.devices.delete(token);
      holder?.movedAway.set(token, { version: previous.version ?? 0, at: Math.floor(now.getTime() / 1000) });
    }
    const version = (previous?.version ?? 0) + (refreshed ? 0 : 1);
    const device: Device = {
      ...registration,
      platform,
      registeredAt: refreshed ? previous.registeredAt : now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
      version,
    };
    this.records.set(token, device);
    const set = this.setOf(userId);
    set.devices.set(token, {
      appId: registration.appId,
      environment: registration.environment,
      platform,
      lastSeenAt: device.lastSeenAt,
      expiresAt: device.expiresAt,
      version,
    });
    const evicted = [...set.devices]
      .filter(([held]) => held !== token)
      .sort(([, a], [, b]) => a.lastSeenAt.localeCompare(b.lastSeenAt))
      .slice(0, Math.max(0, set.devices.size - maxDevices))
      .map(([held]) => held);
    for (const gone of evicted) set.devices.delete(gone);
    const result = refreshed ? 'refreshed' : previous === undefined ? 'created' : 'moved';
    return { device, result, evicted } as const;
  }

  async deleteDevice(userId: string, token: string): Promise<void> {
    const set = this.sets.get(userId);
    if (set?.devices.has(token) !== true) throw new DeviceNotFoundError();
    set.devices.delete(token);
    if (this.records.get(token)?.userId === userId) this.records.delete(token);
  }

  async listDevices(userId: string): Promise<Device[]> {
    const held = [...(this.sets.get(userId)?.devices.keys() ?? [])];
    return held.flatMap((token) => {
      const record = this.records.get(token);
      return record?.userId === userId ? [record] : [];
    });
  }

  /** Set to a number of refusals: that many emptyDeviceSet calls answer as if a registration raced them. */
  racingRegistrations = 0;

  async emptyDeviceSet(userId: string, _now: Date) {
    if (this.racingRegistrations > 0) {
      this.racingRegistrations--;
      return undefined;
    }
    const generation = (this.generations.get(userId) ?? 0) + 1;
    this.generations.set(userId, generation);
    const set = this.setOf(userId);
    set.devices.clear();
    set.generation = generation;
    set.setVersion = (set.setVersion ?? 0) + 1;
    return { setVersion: set.setVersion };
  }

  async deleteRecordsErasedFrom(userId: string, _erasedSetVersion: number): Promise<number> {
    let deleted = 0;
    for (const [token, record] of this.records) {
      if (record.userId !== userId) continue;
      this.records.delete(token);
      deleted++;
    }
    return deleted;
  }

  async heldBy(userId: string, token: string): Promise<HeldDevice | undefined> {
    const entry = this.sets.get(userId)?.devices.get(token);
    return entry === undefined ? undefined : { token, userId, entry: { ...entry } };
  }

  async deviceSetsOf(userIds: readonly string[]): Promise<Map<string, DeviceSet>> {
    return new Map(
      userIds.flatMap((userId) => {
        const set = this.sets.get(userId);
        return set === undefined
          ? []
          : [[userId, { ...set, devices: new Map(set.devices), movedAway: new Map(set.movedAway) }]];
      }),
    );
  }

  async holdersOf(tokens: readonly string[]): Promise<Map<string, HeldDevice>> {
    const held = new Map<string, HeldDevice>();
    for (const token of tokens) {
      const record = this.records.get(token);
      const entry = record === undefined ? undefined : this.sets.get(record.userId)?.devices.get(token);
      if (record !== undefined && entry !== undefined)
        held.set(token, { token, userId: record.userId, entry });
    }
    return held;
  }

  /** As the table's: only while the same user's, and for a 410 not registered again after `invalidSince`. */
  async pruneDevice(device: { token: string; userId: string; appId: string }, invalidSince?: Date) {
    const record = this.records.get(device.token);
    if (record === undefined || record.userId !== device.userId || record.appId !== device.appId)
      return false;
    if (invalidSince !== undefined && new Date(record.lastSeenAt) > invalidSince) return false;
    this.records.delete(device.token);
    this.sets.get(device.userId)?.devices.delete(device.token);
    return true;
  }

  async correctDeviceEnvironment(
    device: Pick<Device, 'token' | 'userId'>,
    environment: Device['environment'],
  ) {
    const record = this.records.get(device.token);
    if (record?.userId === device.userId) record.environment = environment;
    const entry = this.sets.get(device.userId)?.devices.get(device.token);
    if (entry !== undefined) entry.environment = environment;
  }

  async userGenerations(userIds: readonly string[]): Promise<Map<string, number>> {
    return new Map(userIds.map((userId) => [userId, this.generations.get(userId) ?? 0]));
  }
}

export class InMemoryLiveActivities implements LiveActivityRegistry {
  /** Token states, by token; the devices, with the target each is filed under, in `devices`. */
  readonly states = new Map<string, LiveActivityTokenState>();
  readonly devices = new Map<string, PushDevice>();
  readonly pruned: string[] = [];

  async saveLiveActivityToken(): Promise<never> {
    throw new Error('in-memory ports: register Live Activity tokens through `put` in unit tests');
  }

  /** Files a Live Activity token as a registration would. */
  put(device: PushDevice, state: LiveActivityTokenState): void {
    this.devices.set(device.token, device);
    this.states.set(device.token, state);
  }

  async deleteLiveActivityToken(userId: string, _kind: string, token: string): Promise<void> {
    if (this.states.get(token)?.ownerId !== userId) throw new LiveActivityTokenNotFoundError();
    this.states.delete(token);
    this.devices.delete(token);
  }

  async listPushToStartDevices(appId: string, userId: string, attributesType: string) {
    return this.listed(pushToStartTarget(appId, userId, attributesType));
  }

  async listActivityDevices(appId: string, userId: string, activityId: string) {
    return this.listed(activityTarget(appId, userId, activityId));
  }

  private listed(key: string): PushDevice[] {
    return [...this.devices.values()].filter((device) => device.liveActivity?.target === key);
  }

  async readLiveActivityToken(device: PushDevice) {
    const state = this.states.get(device.token);
    return state === undefined ? undefined : { ...state };
  }

  async pruneLiveActivityToken(device: PushDevice): Promise<boolean> {
    if (this.states.get(device.token)?.ownerId !== device.userId) return false;
    this.states.delete(device.token);
    this.pruned.push(device.token);
    return true;
  }

  async endActivityToken(device: PushDevice, dismissAt?: number): Promise<void> {
    const state = this.states.get(device.token);
    if (state !== undefined) state.dismissAt = dismissAt ?? 0;
  }

  async correctLiveActivityEnvironment(device: PushDevice, environment: PushDevice['environment']) {
    const filed = this.devices.get(device.token);
    if (filed !== undefined) filed.environment = environment;
  }
}

type ChunkState = { claimedUntil?: number; completed?: ChunkRecord };

export class InMemoryNotificationRecords implements NotificationRecords {
  readonly requests = new Map<string, SendRequestRecord>();
  /** Chunk claims and completions, by `id|part|attempt|chunk`. */
  readonly chunks = new Map<string, ChunkState>();
  /** Fingerprints of the parts with devices the sender recorded, by `id|part|attempt`. */
  readonly issued = new Map<string, Set<string>>();
  readonly leanDone = new Map<string, Map<string, LeanPlan | undefined>>();
  readonly deadLettered = new Map<string, DeadLetteredPart[]>();
  /** Each takeNotificationId write attempted, in order: the record it tried to write, and when. */
  readonly takes: { record: SendRequestRecord; now: Date }[] = [];

  async takeNotificationId(record: SendRequestRecord, now: Date) {
    this.takes.push({ record: structuredClone(record), now });
    const existing = this.requests.get(record.notificationId);
    if (existing !== undefined) return { taken: false as const, existing: structuredClone(existing) };
    this.requests.set(record.notificationId, structuredClone(record));
    return { taken: true as const };
  }

  async findSendRequest(notificationId: string) {
    const record = this.requests.get(notificationId);
    return record === undefined ? undefined : structuredClone(record);
  }

  async markRequestEnqueued(notificationId: string, published?: { part: string; partKeys: string[] }) {
    const record = this.requests.get(notificationId);
    if (record === undefined) return;
    record.status = 'enqueued';
    if (published !== undefined) {
      record.publishedPart = published.part;
      record.partKeys = published.partKeys;
    }
  }

  async partProgress(
    notificationId: string,
    part: string,
    attempt: number,
    chunks: number,
    carriesDevices = false,
  ) {
    const done = new Set<number>();
    for (let chunk = 0; chunk < chunks; chunk++) {
      if (this.chunks.get(chunkKey(notificationId, part, attempt, chunk))?.completed !== undefined)
        done.add(chunk);
    }
    const record = this.requests.get(notificationId);
    return {
      done,
      partJobs: record?.partJobs,
      ...(record?.partKeys === undefined ? {} : { partKeys: record.partKeys }),
      ...(carriesDevices && record?.partsIssuedRecorded === true
        ? { issued: new Set(this.issued.get(`${notificationId}|${part}|${attempt}`) ?? []) }
        : {}),
    };
  }

  async recordIssuedParts(
    notificationId: string,
    parts: readonly { part: string; attempt: number; fingerprint: string }[],
  ) {
    for (const { part, attempt, fingerprint } of parts) {
      const key = `${notificationId}|${part}|${attempt}`;
      this.issued.set(key, (this.issued.get(key) ?? new Set()).add(fingerprint));
    }
  }

  async claimChunk(notificationId: string, part: string, attempt: number, chunk: number, leaseMs: number) {
    const key = chunkKey(notificationId, part, attempt, chunk);
    const state = this.chunks.get(key) ?? {};
    if (state.completed !== undefined) return 'completed' as const;
    if ((state.claimedUntil ?? 0) > Date.now()) return 'held' as const;
    this.chunks.set(key, { claimedUntil: Date.now() + leaseMs });
    return 'claimed' as const;
  }

  async releaseChunk(notificationId: string, part: string, attempt: number, chunk: number) {
    const state = this.chunks.get(chunkKey(notificationId, part, attempt, chunk));
    if (state !== undefined && state.completed === undefined) delete state.claimedUntil;
  }

  async markChunkCompleted(
    notificationId: string,
    part: string,
    attempt: number,
    chunk: number,
    record: ChunkRecord,
  ) {
    this.chunks.set(chunkKey(notificationId, part, attempt, chunk), { completed: structuredClone(record) });
  }

  async isChunkCompleted(notificationId: string, part: string, attempt: number, chunk: number) {
    return this.chunks.get(chunkKey(notificationId, part, attempt, chunk))?.completed !== undefined;
  }

  async claimLeanRequest(notificationId: string, claim: LeanClaim, expected: LeanClaimExpectation) {
    const record = this.requests.get(notificationId);
    if (record === undefined) return false;
    const matches =
      expected.kind === 'takeover'
        ? record.claimedBy === expected.claimedBy && record.claimedUntil === expected.claimedUntil
        : record.claimedBy === undefined &&
          (expected.kind === 'unclaimed' ||
            (record.partJobs?.includes(expected.partJob) === true &&
              record.partKeys?.includes(expected.partKey) === true));
    if (!matches) return false;
    Object.assign(record, claim, { status: 'enqueued' });
    return true;
  }

  async releaseLeanClaim(notificationId: string, invocationId: string) {
    const record = this.requests.get(notificationId);
    if (record?.claimedBy !== invocationId) return;
    delete record.claimedBy;
    delete record.claimedUntil;
    delete record.claimedPart;
  }

  async recordLeanJobsDone(
    invocationId: string,
    jobs: readonly { notificationId: string; plan: LeanPlan }[],
  ) {
    this.leanDone.set(invocationId, new Map(jobs.map(({ notificationId, plan }) => [notificationId, plan])));
  }

  async leanJobsDone(invocationId: string) {
    return new Map(this.leanDone.get(invocationId) ?? []);
  }

  async recordDeadLetteredPart(notificationId: string, part: DeadLetteredPart) {
    const parts = this.deadLettered.get(notificationId) ?? [];
    // Keyed by part and attempt, as the table's item: a second write of the same changes nothing.
    if (!parts.some((p) => p.part === part.part && p.attempt === part.attempt)) parts.push({ ...part });
    this.deadLettered.set(notificationId, parts);
  }
}

function chunkKey(notificationId: string, part: string, attempt: number, chunk: number): string {
  return `${notificationId}|${part}|${attempt}|${chunk}`;
}

export class InMemoryTrackingStore implements TrackingStore {
  /** Who each tracked notification is for (user ids or tokens), unhashed: a fake keeps no secrets. */
  readonly recipients = new Map<string, Set<string>>();
  readonly receipts = new Map<string, Receipt[]>();
  readonly pages: { notificationId: string; part: string; attempt: number; chunk: number; pages: number }[] =
    [];

  constructor(private readonly records: InMemoryNotificationRecords) {}

  async saveRecipients(notificationId: string, recipients: readonly string[]) {
    const saved = this.recipients.get(notificationId) ?? new Set();
    for (const recipient of recipients) saved.add(recipient);
    this.recipients.set(notificationId, saved);
  }

  async isRecipient(notificationId: string, _buckets: number, recipient: string) {
    return this.recipients.get(notificationId)?.has(recipient) === true;
  }

  async recordReceipt(notificationId: string, token: string, userId: string, event: ReceiptEvent) {
    const receipts = this.receipts.get(notificationId) ?? [];
    let receipt = receipts.find((r) => r.token === token);
    if (receipt === undefined) {
      receipt = { token, userId, receivedAt: new Date().toISOString() };
      receipts.push(receipt);
    }
    if (event === 'opened') receipt.openedAt ??= new Date().toISOString();
    this.receipts.set(notificationId, receipts);
  }

  async saveTrackingPages(
    notificationId: string,
    part: string,
    attempt: number,
    chunk: number,
    pages: readonly unknown[],
  ) {
    this.pages.push({ notificationId, part, attempt, chunk, pages: pages.length });
  }

  async acknowledgedTokens(notificationId: string, tokens: readonly string[]) {
    const acknowledged = new Set((this.receipts.get(notificationId) ?? []).map((r) => r.token));
    return new Set(tokens.filter((token) => acknowledged.has(token)));
  }

  /** The progress, what each completed chunk did, receipts and dead-lettered parts; per-device outcomes are not modelled. */
  async readTracking(notificationId: string): Promise<NotificationTracking> {
    const summaries = [...this.records.chunks].flatMap(([key, state]) => {
      const [id, part, attempt] = key.split('|') as [string, string, string];
      const summary = state.completed?.summary;
      return id === notificationId && summary !== undefined
        ? [{ part, attempt: Number(attempt), summary }]
        : [];
    });
    const progress = [...this.records.chunks].flatMap(([key, state]) => {
      const [id, part, attempt, chunk] = key.split('|') as [string, string, string, string];
      if (id !== notificationId) return [];
      return [
        {
          part,
          attempt: Number(attempt),
          chunk: Number(chunk),
          completed: state.completed !== undefined,
          ...(state.completed === undefined ? {} : { chunks: state.completed.chunks }),
        },
      ];
    });
    return {
      chunks: [],
      summaries,
      receipts: [...(this.receipts.get(notificationId) ?? [])],
      progress,
      deadLettered: [...(this.records.deadLettered.get(notificationId) ?? [])],
    };
  }
}

export class InMemorySendQueue implements SendQueue {
  readonly sent: OutgoingMessage[] = [];
  readonly deadLettered: { body: string; reason: string; detail: string; messageId?: string }[] = [];

  async enqueue(messages: readonly OutgoingMessage[]) {
    this.sent.push(...messages);
  }

  async deadLetter(body: string, reason: string, detail: string, messageId?: string) {
    this.deadLettered.push({ body, reason, detail, ...(messageId === undefined ? {} : { messageId }) });
  }

  /** The bodies put on the send queue, parsed. */
  sentParts<T = Record<string, unknown>>(): T[] {
    return this.sent.map((message) => JSON.parse(message.body) as T);
  }
}

export class InMemoryMetrics implements Metrics {
  readonly tallies: DeliveryTally[] = [];
  devicesEvicted = 0;

  publishTally(tally: DeliveryTally): void {
    this.tallies.push(tally);
  }

  countDevicesEvicted(count: number): void {
    this.devicesEvicted += count;
  }
}

/** Push services that answer each token from a script (default: accepted), and keep what was sent. */
export class ScriptedPushProviders implements PushProviders {
  readonly apnsSent: { environment: string; token: string }[] = [];
  readonly fcmSent: string[] = [];
  apnsAnswer: (token: string, environment: string) => RawApnsAnswer = () => ({ status: 200 });
  fcmAnswer: (token: string) => RawFcmAnswer = () => ({ status: 200 });

  async apns(_app: AppConfig, environment: PushDevice['environment']) {
    return {
      sendAll: async (_request: unknown, tokens: readonly string[]) =>
        tokens.map((token) => {
          this.apnsSent.push({ environment, token });
          return this.apnsAnswer(token, environment);
        }),
    };
  }

  async fcm(_app: AppConfig) {
    return {
      sendAll: async (_request: unknown, tokens: readonly string[]) =>
        tokens.map((token) => {
          this.fcmSent.push(token);
          return this.fcmAnswer(token);
        }),
    };
  }
}

export interface InMemoryPorts extends Ports {
  deviceRegistry: InMemoryDeviceRegistry;
  liveActivities: InMemoryLiveActivities;
  notificationRecords: InMemoryNotificationRecords;
  trackingStore: InMemoryTrackingStore;
  sendQueue: InMemorySendQueue;
  pushProviders: ScriptedPushProviders;
  metrics: InMemoryMetrics;
  settings: Ports['settings'] & { maxDevicesPerUser: number; retryBaseDelaySeconds: number };
}

/** A fresh set of fakes: one app (FAKE_APP, with FCM), a cap of 32 devices, retries from 15 s. */
export function inMemoryPorts(apps: readonly AppConfig[] = [FAKE_APP]): InMemoryPorts {
  const notificationRecords = new InMemoryNotificationRecords();
  return {
    deviceRegistry: new InMemoryDeviceRegistry(),
    liveActivities: new InMemoryLiveActivities(),
    notificationRecords,
    trackingStore: new InMemoryTrackingStore(notificationRecords),
    sendQueue: new InMemorySendQueue(),
    pushProviders: new ScriptedPushProviders(),
    metrics: new InMemoryMetrics(),
    settings: {
      findApp: (appId) => apps.find((app) => app.appId === appId),
      maxDevicesPerUser: 32,
      retryBaseDelaySeconds: 15,
      requestTimeoutMs: 5_000,
    },
  };
}
