import type { AppConfig } from '../../domain/app';

/** What the deployment is configured with, as the use cases read it. */
export interface Settings {
  /** The app the deployment serves under this id; undefined for any other. */
  findApp(appId: string): AppConfig | undefined;
  /** The most devices a user's set holds (`MAX_DEVICES_PER_USER`). */
  readonly maxDevicesPerUser: number;
  /** The first retry's delay; each later attempt waits longer (domain/retry-policy.ts). */
  readonly retryBaseDelaySeconds: number;
  /** How long one APNs or FCM request may take before it counts as unanswered. */
  readonly requestTimeoutMs: number;
}
