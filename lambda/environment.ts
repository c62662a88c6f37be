/**
 * The names of the environment variables the functions read — the one list shared
 * by the runtime (config.ts reads them), the CDK constructs (which set them together
 * with the matching grant) and the offline stack (which sets them for the same
 * handler modules). Plain strings: runtime code never imports CDK.
 */
export const ENVIRONMENT = {
  /** Name of the Devices table. */
  devicesTable: 'DEVICES_TABLE_NAME',
  /** Name of the Notifications table. */
  notificationsTable: 'NOTIFICATIONS_TABLE_NAME',
  /** URL of the send queue. */
  sendQueue: 'SEND_QUEUE_URL',
  /** URL of the send queue's dead-letter queue. */
  deadLetterQueue: 'DEAD_LETTER_QUEUE_URL',
  /** JSON list of the apps served: `[{appId, bundleId, credentials?, fcm?: {projectId, credentials}}]`. */
  apps: 'PUSHGATE_APPS',
  /** Optional: `{"sandbox":"host:port","production":"host:port"}`, the APNs simulator instead of Apple. */
  apnsEndpoints: 'APNS_ENDPOINTS',
  /** Optional: the CA file that signs the simulator's certificate. */
  apnsCaFile: 'APNS_CA_FILE',
  /** Optional: `host:port` of the FCM simulator instead of fcm.googleapis.com. */
  fcmEndpoint: 'FCM_ENDPOINT',
  /** Optional: the CA file that signs the FCM simulator's certificate (FCM and its token endpoint). */
  fcmCaFile: 'FCM_CA_FILE',
  /** Optional: how long one APNs request may take (ms). */
  apnsRequestTimeoutMs: 'APNS_REQUEST_TIMEOUT_MS',
  /** Optional: the most devices a user's device set holds (default 32; domain/device-set.ts). */
  maxDevicesPerUser: 'MAX_DEVICES_PER_USER',
  /** Optional: the first retry's delay in seconds (tests shorten it). */
  retryBaseDelaySeconds: 'RETRY_BASE_DELAY_SECONDS',
} as const;

export type EnvironmentVariable = (typeof ENVIRONMENT)[keyof typeof ENVIRONMENT];
