import * as chunkProgress from '../adapters/secondary/chunk-progress';
import { saveDevice } from '../adapters/secondary/device-registration';
import * as devicesTable from '../adapters/secondary/devices-table';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../adapters/secondary/http2/request-timeout';
import * as liveActivityTokens from '../adapters/secondary/live-activity-tokens-table';
import * as notificationsTable from '../adapters/secondary/notifications-table';
import * as sendQueueAdapter from '../adapters/secondary/send-queue';
import * as trackingTable from '../adapters/secondary/tracking-table';
import { userGenerations } from '../adapters/secondary/user-generations';
import { config, findApp } from '../config';
import { countDevicesEvicted, publishTally } from '../metrics';
import type {
  ApiPorts,
  DeviceRegistry,
  LiveActivityRegistry,
  Metrics,
  NotificationRecords,
  SendQueue,
  Settings,
  TrackingStore,
} from '../use-cases/ports';

/**
 * The ports of the Lambda runtime, made of the secondary adapters and `config` — the
 * one place that picks them. One export per port: a route's handler imports the ports
 * its use case takes, so its bundle carries those adapters and no others. The sender
 * adds the push services (sender.ts), kept apart so that no route's bundle carries
 * HTTP/2, APNs or FCM code. Offline (`npm start`) and the integration tests
 * run these same handlers with these same ports: only the endpoints differ (the
 * embedded DynamoDB and SQS, the simulators), set through the environment `config`
 * reads. The use cases' unit tests use in-memory fakes instead
 * (test/support/in-memory-ports.ts).
 */
export const deviceRegistry: DeviceRegistry = {
  saveDevice,
  deleteDevice: devicesTable.deleteDevice,
  listDevices: (userId) => devicesTable.listDevices(userId),
  emptyDeviceSet: devicesTable.emptyDeviceSet,
  deleteRecordsErasedFrom: devicesTable.deleteRecordsErasedFrom,
  heldBy: devicesTable.heldBy,
  deviceSetsOf: devicesTable.deviceSetsOf,
  holdersOf: devicesTable.holdersOf,
  pruneDevice: devicesTable.pruneDevice,
  correctDeviceEnvironment: devicesTable.correctDeviceEnvironment,
  userGenerations,
};

export const liveActivities: LiveActivityRegistry = {
  saveLiveActivityToken: liveActivityTokens.saveLiveActivityToken,
  deleteLiveActivityToken: liveActivityTokens.deleteLiveActivityToken,
  listPushToStartDevices: liveActivityTokens.listPushToStartDevices,
  listActivityDevices: liveActivityTokens.listActivityDevices,
  readLiveActivityToken: liveActivityTokens.readLiveActivityToken,
  pruneLiveActivityToken: liveActivityTokens.pruneLiveActivityToken,
  endActivityToken: liveActivityTokens.endActivityToken,
  correctLiveActivityEnvironment: liveActivityTokens.correctLiveActivityEnvironment,
};

export const notificationRecords: NotificationRecords = {
  takeNotificationId: notificationsTable.takeNotificationId,
  findSendRequest: notificationsTable.findSendRequest,
  markRequestEnqueued: notificationsTable.markRequestEnqueued,
  partProgress: chunkProgress.partProgress,
  recordIssuedParts: (notificationId, parts) => chunkProgress.recordIssuedParts(notificationId, parts),
  claimChunk: (notificationId, part, attempt, chunk, leaseMs) =>
    chunkProgress.claimChunk(notificationId, part, attempt, chunk, leaseMs),
  releaseChunk: chunkProgress.releaseChunk,
  markChunkCompleted: (notificationId, part, attempt, chunk, record) =>
    chunkProgress.markChunkCompleted(notificationId, part, attempt, chunk, record),
  isChunkCompleted: chunkProgress.isChunkCompleted,
  claimLeanRequest: notificationsTable.claimLeanRequest,
  releaseLeanClaim: notificationsTable.releaseLeanClaim,
  recordLeanJobsDone: (invocationId, jobs) => notificationsTable.recordLeanJobsDone(invocationId, jobs),
  leanJobsDone: notificationsTable.leanJobsDone,
  recordDeadLetteredPart: chunkProgress.recordDeadLetteredPart,
};

export const trackingStore: TrackingStore = {
  saveRecipients: trackingTable.saveRecipients,
  isRecipient: trackingTable.isRecipient,
  recordReceipt: (notificationId, token, userId, event) =>
    trackingTable.recordReceipt(notificationId, token, userId, event),
  saveTrackingPages: (notificationId, part, attempt, chunk, pages) =>
    trackingTable.saveTrackingPages(notificationId, part, attempt, chunk, pages),
  acknowledgedTokens: trackingTable.acknowledgedTokens,
  readTracking: trackingTable.readTracking,
};

export const sendQueue: SendQueue = {
  enqueue: (messages) => sendQueueAdapter.enqueue(messages),
  deadLetter: sendQueueAdapter.deadLetter,
};

// Getters: config reads the environment on each use, as tests and offline mode expect.
export const metrics: Metrics = { publishTally, countDevicesEvicted };

export const settings: Settings = {
  findApp,
  get maxDevicesPerUser() {
    return config.maxDevicesPerUser;
  },
  get retryBaseDelaySeconds() {
    return config.retryBaseDelaySeconds;
  },
  // Unset, the connection's own default: the one the time reserve is sized on.
  get requestTimeoutMs() {
    return config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  },
};

/** All of the routes' ports at once (the sender's composition starts from them). */
export const apiPorts: ApiPorts = {
  deviceRegistry,
  liveActivities,
  notificationRecords,
  trackingStore,
  sendQueue,
  metrics,
  settings,
};
