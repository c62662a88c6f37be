import * as z from 'zod/mini';
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

const appsSchema = z.array(
  z.strictObject({
    appId: z.string().check(z.minLength(1)),
    /** The APNs topic: the app's bundle id. */
    bundleId: z.string().check(z.minLength(1)),
    /** Secrets Manager ARN (deployed) or a local file (offline) with the APNs credentials. */
    credentials: z.optional(z.string().check(z.minLength(1))),
  }),
);
export type AppConfig = z.infer<typeof appsSchema>[number];

let apps: AppConfig[] | undefined;
let appsSource: string | undefined;

export const config = {
  get devicesTableName(): string {
    return requireEnv('DEVICES_TABLE_NAME');
  },
  /** `PUSHGATE_APPS`: JSON list of the apps this deployment serves. */
  get apps(): AppConfig[] {
    const source = requireEnv('PUSHGATE_APPS');
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
