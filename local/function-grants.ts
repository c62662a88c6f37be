import { AsyncLocalStorage } from 'node:async_hooks';
import { EVENT_SOURCE_QUEUE_ACTIONS, type FunctionAccess } from '../infra/function-access';
import { DEVICES_TABLE } from '../lambda/adapters/secondary/devices-keys';
import { ENVIRONMENT } from '../lambda/environment';
import {
  OFFLINE_ACCOUNT,
  type Permission,
  queueArn,
  requiredPermissions,
  secretArn,
  tableArn,
} from './iam-permissions';

/**
 * Offline mode holds every function invocation to the grants the stack deploys for
 * that function (infra/function-access.ts, infra/api-routes.ts): a middleware on the
 * functions' SDK clients maps each call to the IAM action and resource AWS would
 * authorize it by, and refuses it the way AWS does — an AccessDeniedException — when
 * the invoking function is not granted it. Calls made outside an invocation (test
 * setup, seeding, the dashboard) are not checked. What each call needs is
 * iam-permissions.ts; this module is what each function is granted, and the check.
 */

// Importers of this module keep working: the permissions and ARNs moved to iam-permissions.ts.

/** Granted actions by resource ARN. */
export type Grants = ReadonlyMap<string, ReadonlySet<string>>;

/** The error AWS answers a call the caller's policies do not allow. */
export class AccessDeniedException extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

  constructor(
    readonly functionName: string,
    readonly permission: Permission,
  ) {
    super(
      `User: arn:aws:sts::${OFFLINE_ACCOUNT}:assumed-role/${functionName}/${functionName} is not authorized to perform: ${permission.action} on resource: ${permission.resource} because no identity-based policy allows the ${permission.action} action (offline mode holds each function to its deployed grants: infra/api-routes.ts, infra/function-access.ts)`,
    );
  }
}

/**
 * A function's grants on the resources the environment names — as the stack's
 * constructs turn the same data into policy statements: the Devices table and each
 * of its indexes separately, the Notifications table, the send queue, the dead-letter
 * queue and each app's credentials secret. `consumedQueueUrl`: the queue an event
 * source feeds the function from, on which CDK's SqsEventSource grants its role the
 * mapping's actions.
 */
export function grantsOf(
  access: FunctionAccess,
  options: { consumedQueueUrl?: string; env?: NodeJS.ProcessEnv } = {},
): Grants {
  const env = options.env ?? process.env;
  const grants = new Map<string, Set<string>>();
  const grant = (resource: string, actions: readonly string[] | undefined) => {
    if (actions === undefined || actions.length === 0) return;
    const granted = grants.get(resource) ?? new Set<string>();
    for (const action of actions) granted.add(action);
    grants.set(resource, granted);
  };
  const devicesTable = env[ENVIRONMENT.devicesTable];
  if (devicesTable !== undefined) {
    grant(tableArn(devicesTable), access.devices?.table);
    grant(tableArn(devicesTable, DEVICES_TABLE.userIndex.name), access.devices?.userIndex);
    grant(tableArn(devicesTable, DEVICES_TABLE.liveActivityIndex.name), access.devices?.liveActivityIndex);
  }
  const notificationsTable = env[ENVIRONMENT.notificationsTable];
  if (notificationsTable !== undefined) grant(tableArn(notificationsTable), access.notifications);
  const sendQueue = env[ENVIRONMENT.sendQueue];
  if (sendQueue !== undefined) grant(queueArn(sendQueue), access.sendQueue);
  const deadLetterQueue = env[ENVIRONMENT.deadLetterQueue];
  if (deadLetterQueue !== undefined) grant(queueArn(deadLetterQueue), access.deadLetterQueue);
  if (access.apnsCredentials?.length) {
    for (const source of credentialSources(env[ENVIRONMENT.apps])) {
      if (source.startsWith('secretsmanager:')) {
        grant(secretArn(source.slice('secretsmanager:'.length)), access.apnsCredentials);
      }
    }
  }
  if (options.consumedQueueUrl !== undefined)
    grant(queueArn(options.consumedQueueUrl), EVENT_SOURCE_QUEUE_ACTIONS);
  return grants;
}

/** The apps' APNs and FCM `credentials` sources (offline they are files, which IAM has no say over). */
function credentialSources(apps: string | undefined): string[] {
  if (apps === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(apps);
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((app: unknown) => {
      if (typeof app !== 'object' || app === null) return [];
      const fcm: unknown = Reflect.get(app, 'fcm');
      return [
        Reflect.get(app, 'credentials'),
        typeof fcm === 'object' && fcm !== null ? Reflect.get(fcm, 'credentials') : undefined,
      ].filter((source): source is string => typeof source === 'string');
    });
  } catch {
    return [];
  }
}
/** Throws AWS's AccessDeniedException for the first permission the grants lack. */
export function authorize(functionName: string, grants: Grants, permissions: readonly Permission[]): void {
  for (const permission of permissions) {
    if (grants.get(permission.resource)?.has(permission.action) !== true) {
      const denied = new AccessDeniedException(functionName, permission);
      recordDenial(denied);
      throw denied;
    }
  }
}

interface Invocation {
  functionName: string;
  grants: Grants;
}

const invocations = new AsyncLocalStorage<Invocation>();

/**
 * Runs one invocation of a function with its grants: every call its code makes on a
 * checked client (the functions' shared ones, lambda/clients.ts, always) must be
 * granted.
 */
export async function runAsFunction<T>(
  functionName: string,
  grants: Grants,
  body: () => Promise<T>,
): Promise<T> {
  await enforcingOnFunctionClients();
  return invocations.run({ functionName, grants }, body);
}

let enforcing: Promise<void> | undefined;

/** Loaded at the first invocation, not when offline mode starts: the clients read their endpoints then. */
function enforcingOnFunctionClients(): Promise<void> {
  enforcing ??= import('../lambda/clients').then(({ dynamo, sqs }) => {
    enforceGrants(dynamo);
    enforceGrants(sqs);
  });
  return enforcing;
}

type Next = (args: { input: unknown }) => Promise<unknown>;

/** Any client's middleware stack, as this middleware uses it: it reads every input as unknown. */
interface MiddlewareStack {
  add(
    middleware: (next: Next, context: { clientName?: string; commandName?: string }) => Next,
    options: { step: 'initialize'; name: string; priority: 'high' },
  ): void;
}

const enforced = new WeakSet<object>();

/**
 * Checks the client's calls inside invocations from now on (once per client): any
 * SDK v3 service client, or the document client (which shares its client's stack).
 */
export function enforceGrants(client: { middlewareStack: object }): void {
  if (enforced.has(client.middlewareStack)) return;
  enforced.add(client.middlewareStack);
  (client.middlewareStack as MiddlewareStack).add(
    (next, context) => async (args) => {
      const invocation = invocations.getStore();
      if (invocation !== undefined) {
        const permissions = requiredPermissions(
          context.clientName ?? '',
          context.commandName ?? '',
          args.input,
        );
        authorize(invocation.functionName, invocation.grants, permissions);
      }
      return next(args);
    },
    { step: 'initialize', name: 'pushgateOfflineGrants', priority: 'high' },
  );
}

/** The last refusals, for tests to see one a handler caught and turned into something else. */
const denials: AccessDeniedException[] = [];
const MAX_DENIALS = 100;

function recordDenial(denied: AccessDeniedException): void {
  denials.push(denied);
  if (denials.length > MAX_DENIALS) denials.shift();
}

/** The refusals since the last call (at most the last 100), oldest first; clears them. */
export function takeDenials(): AccessDeniedException[] {
  return denials.splice(0);
}
