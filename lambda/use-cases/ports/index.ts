import type { DeviceRegistry } from './device-registry';
import type { LiveActivityRegistry } from './live-activity-registry';
import type { Metrics } from './metrics';
import type { NotificationRecords } from './notification-records';
import type { PushProviders } from './push-providers';
import type { SendQueue } from './send-queue';
import type { Settings } from './settings';
import type { TrackingStore } from './tracking-store';

export type {
  DeviceRegistry,
  LiveActivityRegistry,
  Metrics,
  NotificationRecords,
  PushProviders,
  SendQueue,
  Settings,
  TrackingStore,
};

/**
 * Everything the use cases need from outside the domain, one port each. A use case
 * takes the ports it uses (`Pick<Ports, …>`) as its first argument; a composition
 * module builds them — lambda/composition/ for Lambda and offline, in-memory fakes
 * for the use cases' unit tests.
 */
export interface Ports {
  deviceRegistry: DeviceRegistry;
  liveActivities: LiveActivityRegistry;
  notificationRecords: NotificationRecords;
  trackingStore: TrackingStore;
  sendQueue: SendQueue;
  pushProviders: PushProviders;
  metrics: Metrics;
  settings: Settings;
}

/** The ports the HTTP routes' use cases use: every one but the push services. */
export type ApiPorts = Omit<Ports, 'pushProviders'>;
