import * as z from 'zod/mini';
import { type AppConfig, appConfigSchema } from './domain/app';
import { DEFAULT_MAX_DEVICES_PER_USER, MOST_DEVICES_PER_USER } from './domain/device-set';
import { BASE_DELAY_SECONDS } from './domain/retry-policy';
import { ENVIRONMENT } from './environment';
import './validation';

/**
 * The one place that reads the environment. Each setting throws when missing, so a
 * misconfigured function fails on its first use with the variable's name instead of
 * running with an empty string.
 */
function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${name} is not set`);
  }
  return value;
}

const appsSchema = z.array(appConfigSchema);

let apps: AppConfig[] | undefined;
let appsSource: string | undefined;

const endpointsSchema = z.strictObject({ sandbox: z.string(), production: z.string() });

export const config = {
  get devicesTableName(): string {
    return requireEnv(ENVIRONMENT.devicesTable);
  },
  get notificationsTableName(): string {
    return requireEnv(ENVIRONMENT.notificationsTable);
  },
  get sendQueueUrl(): string {
    return requireEnv(ENVIRONMENT.sendQueue);
  },
  get deadLetterQueueUrl(): string {
    return requireEnv(ENVIRONMENT.deadLetterQueue);
  },
  /**
   * `APNS_ENDPOINTS` (optional): `{"sandbox":"host:port","production":"host:port"}` to
   * talk to the simulator instead of Apple; `APNS_CA_FILE` the CA that signs it.
   */
  get apnsEndpoints(): { sandbox: string; production: string } | undefined {
    const value = process.env[ENVIRONMENT.apnsEndpoints];
    return value ? endpointsSchema.parse(JSON.parse(value)) : undefined;
  },
  get apnsCaFile(): string | undefined {
    return process.env[ENVIRONMENT.apnsCaFile] || undefined;
  },
  /** `FCM_ENDPOINT` (optional): `host:port` of the FCM simulator instead of fcm.googleapis.com. */
  get fcmEndpoint(): string | undefined {
    return process.env[ENVIRONMENT.fcmEndpoint] || undefined;
  },
  /** `FCM_CA_FILE` (optional): the CA that signs the simulator (FCM and its token endpoint). */
  get fcmCaFile(): string | undefined {
    return process.env[ENVIRONMENT.fcmCaFile] || undefined;
  },
  /**
   * How long one push request may take before it counts as a timeout; unset, the HTTP/2
   * connection's own default applies (the composition fills it in, as config may not
   * import an adapter). It bounds APNs and FCM requests alike; the variable keeps its
   * first name, `APNS_REQUEST_TIMEOUT_MS`: deployed stacks set it.
   */
  get requestTimeoutMs(): number | undefined {
    const value = process.env[ENVIRONMENT.apnsRequestTimeoutMs];
    return value === undefined ? undefined : Number(value);
  },
  /** The first retry's delay; later ones double (tests shorten it). */
  get retryBaseDelaySeconds(): number {
    const value = process.env[ENVIRONMENT.retryBaseDelaySeconds];
    return value === undefined ? BASE_DELAY_SECONDS : Number(value);
  },
  /**
   * The most devices a user's device set holds: a registration beyond it makes the
   * least recently seen device leave the set (docs/decisions/device-sets.md).
   */
  get maxDevicesPerUser(): number {
    const value = process.env[ENVIRONMENT.maxDevicesPerUser];
    if (value === undefined || value === '') return DEFAULT_MAX_DEVICES_PER_USER;
    const max = Number(value);
    if (!Number.isInteger(max) || max < 1 || max > MOST_DEVICES_PER_USER)
      throw new Error(
        `${ENVIRONMENT.maxDevicesPerUser} must be a whole number from 1 to ${MOST_DEVICES_PER_USER}, not "${value}"`,
      );
    return max;
  },
  /** `PUSHGATE_APPS`: JSON list of the apps this deployment serves. */
  get apps(): AppConfig[] {
    const source = requireEnv(ENVIRONMENT.apps);
    if (apps === undefined || source !== appsSource) {
      apps = appsSchema.parse(JSON.parse(source));
      appsSource = source;
    }
    return apps;
  },
};

export function findApp(appId: string): AppConfig | undefined {
  return config.apps.find((app) => app.appId === appId);
}
