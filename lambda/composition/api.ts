import * as devicesTable from '../adapters/secondary/devices-table';
import * as liveActivityKeys from '../adapters/secondary/live-activity-keys';
import * as liveActivityTokens from '../adapters/secondary/live-activity-tokens-table';
import * as notificationsTable from '../adapters/secondary/notifications-table';
import * as sendQueue from '../adapters/secondary/send-queue';
import * as trackingTable from '../adapters/secondary/tracking-table';
import { userGenerations } from '../adapters/secondary/user-generations';
import { config, findApp } from '../config';
import { countDevicesEvicted, publishTally } from '../metrics';
import type { ApiPorts } from '../use-cases/ports';

/**
 * The ports of the Lambda runtime, made of the secondary adapters and `config` — the
 * one place that picks them. The HTTP routes' handlers pass these to their use case;
 * the sender adds the push services (sender.ts), kept apart so that a route's bundle
 * carries no HTTP/2, APNs or FCM code. Offline (`npm start`) and the integration tests
 * run these same handlers with these same ports: only the endpoints differ (the
 * embedded DynamoDB and SQS, the simulators), set through the environment `config`
 * reads. The use cases' unit tests use in-memory fakes instead
 * (test/support/in-memory-ports.ts).
 */
export const apiPorts: ApiPorts = {
  deviceRegistry: {
    saveDevice: devicesTable.saveDevice,
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
  },
  liveActivities: {
    saveLiveActivityToken: liveActivityTokens.saveLiveActivityToken,
    deleteLiveActivityToken: liveActivityTokens.deleteLiveActivityToken,
    listPushToStartTargets: liveActivityTokens.listPushToStartTargets,
    listActivityTargets: liveActivityTokens.listActivityTargets,
    readLiveActivityToken: liveActivityTokens.readLiveActivityToken,
    pruneLiveActivityToken: liveActivityTokens.pruneLiveActivityToken,
    endActivityToken: liveActivityTokens.endActivityToken,
    correctLiveActivityEnvironment: liveActivityTokens.correctLiveActivityEnvironment,
    pushToStartTarget: liveActivityKeys.pushToStartTarget,
    activityTarget: liveActivityKeys.activityTarget,
  },
  notificationRecords: {
    takeNotificationId: notificationsTable.takeNotificationId,
    findSendRequest: notificationsTable.findSendRequest,
    markRequestEnqueued: notificationsTable.markRequestEnqueued,
    partProgress: notificationsTable.partProgress,
    recordIssuedParts: (notificationId, parts) => notificationsTable.recordIssuedParts(notificationId, parts),
    claimChunk: (notificationId, part, attempt, chunk, leaseMs) =>
      notificationsTable.claimChunk(notificationId, part, attempt, chunk, leaseMs),
    releaseChunk: notificationsTable.releaseChunk,
    markChunkCompleted: (notificationId, part, attempt, chunk, record) =>
      notificationsTable.markChunkCompleted(notificationId, part, attempt, chunk, record),
    isChunkCompleted: notificationsTable.isChunkCompleted,
    claimLeanRequest: notificationsTable.claimLeanRequest,
    releaseLeanClaim: notificationsTable.releaseLeanClaim,
    recordLeanJobsDone: (invocationId, jobs) => notificationsTable.recordLeanJobsDone(invocationId, jobs),
    leanJobsDone: notificationsTable.leanJobsDone,
    recordDeadLetteredPart: notificationsTable.recordDeadLetteredPart,
  },
  trackingStore: {
    recipientBuckets: trackingTable.recipientBuckets,
    saveRecipients: trackingTable.saveRecipients,
    isRecipient: trackingTable.isRecipient,
    recordReceipt: (notificationId, token, userId, event) =>
      trackingTable.recordReceipt(notificationId, token, userId, event),
    saveTrackingPages: (notificationId, part, attempt, chunk, pages) =>
      trackingTable.saveTrackingPages(notificationId, part, attempt, chunk, pages),
    acknowledgedTokens: trackingTable.acknowledgedTokens,
    readTracking: trackingTable.readTracking,
  },
  sendQueue: {
    enqueue: (messages) => sendQueue.enqueue(messages),
    deadLetter: sendQueue.deadLetter,
  },
  metrics: { publishTally, countDevicesEvicted },
  // Getters: config reads the environment on each use, as tests and offline mode expect.
  settings: {
    findApp,
    get maxDevicesPerUser() {
      return config.maxDevicesPerUser;
    },
    get retryBaseDelaySeconds() {
      return config.retryBaseDelaySeconds;
    },
    get apnsRequestTimeoutMs() {
      return config.apnsRequestTimeoutMs;
    },
  },
};
