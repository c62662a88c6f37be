import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { credentialsSecretName } from '../../infra/constructs/apns-credentials';
import { SENDER_DURATION_ALARM_SHARE } from '../../infra/constructs/operations';
import { pushgatePropsSchema } from '../../infra/pushgate-props';
import { SEND_QUEUE, SENDER } from '../../infra/queue-settings';
import { MAX_PAGE_TOKEN_LENGTH } from '../../lambda/adapters/primary/get-notification/page-token';
import { MAX_REGISTER_BODY_BYTES } from '../../lambda/adapters/primary/register-device/schema';
import { MAX_SEND_BODY_BYTES } from '../../lambda/adapters/primary/send-notification/limits';
import { MAX_JOBS_PER_BATCH } from '../../lambda/adapters/primary/send-notification-batch/schema';
import { RENEW_AFTER_SECONDS } from '../../lambda/adapters/secondary/apns/provider-token';
import { CACHE_SECONDS } from '../../lambda/adapters/secondary/credentials-source';
import { DEVICES_TABLE } from '../../lambda/adapters/secondary/devices-keys';
import { MAX_SILENT_SESSIONS, TIMEOUT_BURST } from '../../lambda/adapters/secondary/http2/push-connection';
import { MAX_STREAMS_CAP } from '../../lambda/adapters/secondary/http2/push-session';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../lambda/adapters/secondary/http2/request-timeout';
import {
  IDEMPOTENCY_WINDOW_DAYS,
  PROGRESS_TTL_DAYS,
  TRACKING_SHARDS,
} from '../../lambda/adapters/secondary/notifications-keys';
import { settings } from '../../lambda/composition/api';
import { DEVICE_TTL_DAYS } from '../../lambda/domain/device';
import {
  DEFAULT_MAX_DEVICES_PER_USER,
  MAX_SET_ENTRY_BYTES,
  MOST_DEVICES_PER_USER,
} from '../../lambda/domain/device-set';
import { MAX_TOKEN_BYTES, MIN_TOKEN_BYTES } from '../../lambda/domain/device-token';
import { PayloadTooLargeError } from '../../lambda/domain/errors';
import { FCM_CREDENTIAL_CODES } from '../../lambda/domain/fcm-answer';
import {
  ITEM_KEY_PREFIXES,
  MAX_FCM_TOKEN_LENGTH,
  MAX_KEYED_TOKEN_LENGTH,
} from '../../lambda/domain/fcm-token';
import { ACTIVITIES_PER_PART, TOKENS_PER_PART, USERS_PER_PART } from '../../lambda/domain/job-part';
import { LEAN_MAX_TOKENS, LEAN_MAX_USERS } from '../../lambda/domain/lean-job';
import { OUTCOME_NAMES, OUTCOMES } from '../../lambda/domain/outcomes';
import {
  BASE_DELAY_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  MAX_SQS_DELAY_SECONDS,
} from '../../lambda/domain/retry-policy';
import { MAX_RECIPIENTS_PER_JOB } from '../../lambda/domain/send-job';
import { DEFAULT_MAX_REPUSHES, DEVICE_STATUSES, TRACKING_TTL_DAYS } from '../../lambda/domain/tracking';
import { ENVIRONMENT } from '../../lambda/environment';
import { JOBS_DEAD_LETTERED, OUTCOME_METRICS } from '../../lambda/metric-names';
import { CHUNK_LEASE_MS } from '../../lambda/use-cases/deliver-notification';
import { CHUNK_SIZE } from '../../lambda/use-cases/delivery/plan';
import { MAX_PAGE_DEVICES } from '../../lambda/use-cases/get-notification';
import { MAX_JSON_NESTING } from '../../lambda/validation';
import { ERROR_CODES } from '../../scripts/api-error-codes';
import { MOVED_BY_SQS } from '../../scripts/redrive/messages';

/**
 * Facts the code holds, found in the prose that states them: each check reads the value
 * from the code and fails when a document says something else, so a change to one
 * without the other cannot go unnoticed.
 */

const read = (file: string) => readFileSync(file, 'utf8');
/** A document as one line: a phrase may wrap anywhere. */
const flat = (file: string) => read(file).replace(/\s+/g, ' ');
const DOCS = [
  'README.md',
  ...readdirSync('docs')
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file)),
  ...readdirSync('docs/decisions').map((file) => join('docs/decisions', file)),
];
/** Fails, naming the file and the phrase (not the whole document), unless the file states it. */
function expectStated(file: string, phrase: string): void {
  expect(flat(file).includes(phrase), `${file} states "${phrase}"`).toBe(true);
}

/** How the docs write a number: thousands apart with a space (1 000, 50 000). */
const spaced = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ' ');

/** Every number each document states through `pattern` (its first group), with where. */
function statedNumbers(pattern: RegExp, toNumber = (match: RegExpMatchArray) => Number(match[1])) {
  return DOCS.flatMap((file) =>
    [...flat(file).matchAll(pattern)].map((match) => ({ file, phrase: match[0], value: toNumber(match) })),
  );
}

/** The rows of the Markdown table whose header row starts with `header`, as trimmed cells. */
function tableRows(file: string, header: string): string[][] {
  const lines = read(file).split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${header}`));
  expect(start, `${file} has a table starting "| ${header}"`).toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

interface Scenario {
  scenario: string;
  counts: { sqsRequests: number; dynamoReadUnits: number; dynamoWriteUnits: number; lambdaGbSeconds: number };
  readUnitsPerPush: number;
  dollarsPerMillion: number;
  dataOutToApnsPerMillion: number;
  breakdownPerMillion: Record<string, number>;
  dynamoLinesPerMillion: Record<string, number>;
  receipt?: { dynamoReadUnits: number; dynamoWriteUnits: number; dollarsPerMillion: number };
}
interface ThroughputRow {
  client: string;
  perSecond: number;
  sent: number;
  failed: number;
  roundsPerSecond: number[];
  duplicates?: number;
  goaways?: number;
}
interface EndToEnd {
  devices: number;
  acceptMs: number;
  firstPushMs: number;
  lastPushMs: number;
  node: string;
}
/** The figures of the last `npm run bench`, as bench/run.ts writes them. */
const BENCH = JSON.parse(read('bench/results.json')) as {
  targets: {
    registryBundleKB: number;
    registryColdInitMs: number;
    gatewayVsRaw: number;
    offlineStartSeconds: number;
  };
  lambdas: { name: string; bundleBytes: number; coldInitMsMedian: number }[];
  apnsThroughput: { notifications: number; gatewayVsRaw: number; rows: ThroughputRow[] };
  fcmThroughput: { notifications: number; gatewayVsRaw: number; rows: ThroughputRow[] };
  costPerMillion: {
    prices: {
      snsMobilePushPerMillionPublishes: number;
      sqsPerMillionRequests: number;
      dynamoPerMillionWriteUnits: number;
      dynamoPerMillionReadUnits: number;
      lambdaArmPerGbSecond: number;
      lambdaPerMillionRequests: number;
      httpApiPerMillionRequests: number;
      dataOutPerGb: number;
    };
    scenarios: Scenario[];
  };
  latency: {
    chat: { sends: number; p50Ms: number; p95Ms: number };
    chatBatch: { batches: number; jobs: number; p50Ms: number; p95Ms: number };
    endToEnd: EndToEnd;
    endToEndOnLambdaRuntime: EndToEnd;
  };
  offlineStartSeconds: { secondsMedian: number };
  functionGrants: { checkMicrosPerCall: number };
};

/** The bench row of one client; fails naming it when the bench no longer measures it. */
function throughputRow(rows: ThroughputRow[], client: string): ThroughputRow {
  const row = rows.find((candidate) => candidate.client === client);
  expect(row, `bench/results.json measures "${client}"`).toBeDefined();
  return row as ThroughputRow;
}

describe('the docs state what the code holds', () => {
  it("the send queue's visibility timeout, wherever a document gives it", () => {
    const seconds = SEND_QUEUE.visibilityTimeoutSeconds;
    const toSeconds = (value: string, unit: string) => Number(value) * (unit.startsWith('m') ? 60 : 1);
    const stated = [
      ...statedNumbers(/visibility(?: timeout)?[^.;]{0,25}?\b(\d+) ?(s|seconds|minutes?)\b/gi, (m) =>
        toSeconds(m[1] ?? '', m[2] ?? ''),
      ),
      ...statedNumbers(/\b(\d+)[- ](minutes?|seconds?) visibility/gi, (m) =>
        toSeconds(m[1] ?? '', m[2] ?? ''),
      ),
    ];
    expect(stated.length).toBeGreaterThanOrEqual(4);
    expect(stated.filter(({ value }) => value !== seconds)).toEqual([]);
    expectStated('docs/architecture.md', `visibility ${seconds} s`);
    expectStated(
      'docs/deploy.md',
      `visibility ${seconds} s = 6 × the sender's ${SENDER.timeoutSeconds} s timeout`,
    );
  });

  it('how many receives SQS allows before the dead-letter queue', () => {
    const stated = statedNumbers(/\b(\d+) (?:failed )?(?:receives|tries)\b/g);
    expect(stated.length).toBeGreaterThanOrEqual(4);
    expect(stated.filter(({ value }) => value !== SEND_QUEUE.maxReceiveCount)).toEqual([]);
  });

  it("the sender's timeout, batch size and concurrency, and when SenderNearTimeout fires", () => {
    const timeouts = statedNumbers(/(?:sender's|its) (\d+) s timeout/g);
    expect(timeouts.length).toBeGreaterThanOrEqual(3);
    expect(timeouts.filter(({ value }) => value !== SENDER.timeoutSeconds)).toEqual([]);
    const share = SENDER_DURATION_ALARM_SHARE * 100;
    expectStated(
      'docs/runbook.md',
      `${share}% of its ${SENDER.timeoutSeconds} s timeout (${SENDER_DURATION_ALARM_SHARE * SENDER.timeoutSeconds} s)`,
    );
    expectStated('docs/runbook.md', `ran ${share}% of its ${SENDER.timeoutSeconds} s timeout`);
    const batches = statedNumbers(/\bbatch (\d+)\b/g);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.filter(({ value }) => value !== SENDER.batchSize)).toEqual([]);
    expectStated('docs/architecture.md', `\`maxConcurrency\` ${SENDER.maxConcurrency}`);
    expectStated('docs/delivery.md', `at most ${SENDER.maxConcurrency} concurrent invocations by default`);
  });

  it('how long an FCM token may be, and from what length it is keyed by its digest', () => {
    const most = spaced(MAX_FCM_TOKEN_LENGTH);
    const keyed = spaced(MAX_KEYED_TOKEN_LENGTH);
    expectStated('docs/fcm.md', `pushgate accepts 1–${most} characters`);
    expectStated('docs/fcm.md', `A token of up to ${keyed} characters is its own key`);
    expectStated('docs/api.md', `up to ${most} characters, stored and sent exactly as given`);
    expectStated('docs/api.md', `a token over ${keyed} characters is keyed by its digest`);
    expectStated('docs/decisions/long-fcm-tokens.md', `the contract accepts up to ${most} characters`);
    expectStated(
      'docs/decisions/long-fcm-tokens.md',
      `a token of at most \`MAX_KEYED_TOKEN_LENGTH\` (${keyed}) characters`,
    );
    for (const prefix of Object.values(ITEM_KEY_PREFIXES)) {
      expectStated('docs/api.md', `\`${prefix}\``);
      // What the Devices table holds, as deploy.md describes it.
      expectStated('docs/deploy.md', `\`${prefix}`);
    }
    const setKb = MAX_SET_ENTRY_BYTES / 1024;
    expectStated('docs/delivery.md', `past ${setKb} KB of entries`);
    expectStated('docs/fcm.md', `\`MAX_SET_ENTRY_BYTES\` (${setKb} KB`);
    expectStated('docs/decisions/long-fcm-tokens.md', `\`MAX_SET_ENTRY_BYTES\` (${setKb} KB;`);
    expectStated('docs/fcm.md', `\`MAX_PAGE_TOKEN_LENGTH\` (${spaced(MAX_PAGE_TOKEN_LENGTH)}) characters`);
  });

  it('how long the send queue and its dead-letter queue keep a job, and the Notifications table its records', () => {
    const dlqDays = SEND_QUEUE.deadLetterRetentionDays;
    expectStated('docs/deploy.md', `its DLQ (${dlqDays} days)`);
    expectStated('docs/deploy.md', `the queue keeps them ${SEND_QUEUE.retentionDays} days`);
    expectStated('docs/runbook.md', `The DLQ keeps jobs ${dlqDays} days`);
    expectStated('docs/architecture.md', `who may acknowledge; ${IDEMPOTENCY_WINDOW_DAYS} days)`);
    expectStated('docs/architecture.md', `on ${TRACKING_SHARDS} shards`);
    expectStated('docs/architecture.md', `${PROGRESS_TTL_DAYS} days, ${TRACKING_TTL_DAYS} when tracked`);
    expectStated('docs/architecture.md', `(\`receipt#<token>\`; ${TRACKING_TTL_DAYS} days)`);
    expectStated('docs/api.md', `within **${IDEMPOTENCY_WINDOW_DAYS} days**`);
  });

  it('how many attempts a device gets before it is dead-lettered, how long it waits between them and for an answer', () => {
    const stated = statedNumbers(/after (\d+) attempts/g);
    expect(stated.length).toBeGreaterThanOrEqual(2);
    expect(stated.filter(({ value }) => value !== MAX_DELIVERY_ATTEMPTS)).toEqual([]);
    expectStated('docs/apns.md', `delayed ${BASE_DELAY_SECONDS} s before the first retry and twice as long`);
    expectStated('docs/apns.md', `at most ${MAX_SQS_DELAY_SECONDS / 60} minutes (SQS's longest delay)`);
    expectStated(
      'docs/apns.md',
      `${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s by default (\`APNS_REQUEST_TIMEOUT_MS\`)`,
    );
  });

  it("a chunk's size, wherever a document gives it, and what a chunk of users holds", () => {
    const { users, activities, tokens, devices } = CHUNK_SIZE;
    const phrase = `at most ${users} users, ${activities} activities, ${tokens} tokens or ${devices} retried or re-pushed devices`;
    for (const file of ['docs/architecture.md', 'docs/api.md', 'docs/delivery.md', 'docs/push-privacy.md'])
      expectStated(file, phrase);
    // The same sizes in other words, or a size dropped, would be a copy of its own.
    const stated = statedNumbers(/\b(\d+) users,? (?:or )?\d+ (?:activities|devices)/g);
    expect(stated.filter(({ value }) => value !== users)).toEqual([]);
    expect(statedNumbers(/per chunk of up to (\d+)/g)).toEqual([]);
    expectStated('docs/api.md', `each user's devices, up to ${DEFAULT_MAX_DEVICES_PER_USER} by default`);
    expectStated('docs/api.md', `on ${TRACKING_SHARDS} sharded keys`);
  });

  it("a chunk's lease ends before the send queue would deliver its message again", () => {
    // A lease past the visibility timeout would leave a redelivered message's chunks
    // held by an invocation that is gone: skipped until the lease ends.
    expect(CHUNK_LEASE_MS).toBeLessThan(SEND_QUEUE.visibilityTimeoutSeconds * 1000);
  });

  it('how long the sender caches credentials', () => {
    const words: Record<string, number> = { one: 1, a: 1 };
    const stated = statedNumbers(
      /(?:cached|caches credentials for|picks it up within|reads it again within) (one|a|\d+) minutes?/g,
      (match) => words[match[1] ?? ''] ?? Number(match[1]),
    );
    expect(stated.length).toBeGreaterThanOrEqual(4);
    expect(stated.filter(({ value }) => value * 60 !== CACHE_SECONDS)).toEqual([]);
  });

  it("the APNs session's limits: the streams cap, timeouts and silent sessions in a row, the provider token's age", () => {
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six'];
    expectStated(
      'docs/apns.md',
      `\`SETTINGS_MAX_CONCURRENT_STREAMS\` (capped at ${spaced(MAX_STREAMS_CAP)})`,
    );
    expectStated('docs/apns.md', `after ${words[TIMEOUT_BURST]} timeouts in a row`);
    expectStated('docs/apns.md', `before answering anything (${words[MAX_SILENT_SESSIONS]} in a row)`);
    const renewal = statedNumbers(
      /(?:finds it (\d+) minutes old|none older than (\d+) minutes is ever sent)/g,
      (match) => Number(match[1] ?? match[2]),
    );
    expect(renewal.length).toBeGreaterThanOrEqual(2);
    expect(renewal.filter(({ value }) => value * 60 !== RENEW_AFTER_SECONDS)).toEqual([]);
  });

  it("the sender's steps: as deliverNotification's doc comment lists them, and listed nowhere else", () => {
    const comment = read('lambda/use-cases/deliver-notification.ts');
    const steps = [...comment.matchAll(/^ \* \d\. (\w+) —/gm)].map((match) => match[1]);
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expectStated('docs/architecture.md', `in the steps its doc comment lists — ${steps.join(', ')} —`);
    // Any other list of two steps in a row is a second copy that can drift.
    const pairs = steps.slice(1).map((step, i) => `${steps[i]}, ${step}`);
    const copies = DOCS.flatMap((file) =>
      pairs
        .filter((pair) => flat(file).split(pair).length - 1 > (file === 'docs/architecture.md' ? 1 : 0))
        .map((pair) => `${file}: ${pair}`),
    );
    expect(copies).toEqual([]);
  });

  it("the credentials secrets' names: as the stack makes them, stated once (deploy.md, the others link)", () => {
    for (const service of ['apns', 'fcm'] as const)
      expectStated(
        'docs/deploy.md',
        `\`${credentialsSecretName('<stage>-pushgate', service, '<appId>', '<stack id>')}\``,
      );
    const named = DOCS.flatMap((file) =>
      [...flat(file).matchAll(/[^\s`(]*\/(?:apns|fcm)\/<appId>[^\s`)]*/g)].map(
        (match) => `${file}: ${match[0]}`,
      ),
    );
    expect(named.filter((name) => !name.startsWith('docs/deploy.md:'))).toEqual([]);
  });

  it('the defaults the docs state are the ones a deployed function runs with', () => {
    const names = [ENVIRONMENT.apnsRequestTimeoutMs, ENVIRONMENT.retryBaseDelaySeconds];
    const before = names.map((name) => process.env[name]);
    for (const name of names) delete process.env[name];
    try {
      expect(settings.requestTimeoutMs).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
      expect(settings.retryBaseDelaySeconds).toBe(BASE_DELAY_SECONDS);
    } finally {
      names.forEach((name, i) => {
        const value = before[i];
        if (value !== undefined) process.env[name] = value;
      });
    }
  });

  it('the limits of a send: recipients, job parts, batch, devices per user', () => {
    const parts = `${spaced(USERS_PER_PART)} users, ${spaced(TOKENS_PER_PART)} tokens or ${spaced(ACTIVITIES_PER_PART)} activities`;
    expectStated('docs/architecture.md', `job parts of ${parts}`);
    expectStated(
      'docs/api.md',
      `**${spaced(MAX_RECIPIENTS_PER_JOB)}** per request (the API splits them into job parts of ${spaced(USERS_PER_PART)} users / ${spaced(TOKENS_PER_PART)} tokens / ${spaced(ACTIVITIES_PER_PART)}`,
    );
    expectStated('docs/architecture.md', `with up to ${MAX_JOBS_PER_BATCH} jobs`);
    expectStated('docs/api.md', `1–${MAX_JOBS_PER_BATCH} send jobs`);
    expectStated('docs/delivery.md', `(${DEFAULT_MAX_DEVICES_PER_USER} by default;`);
    expectStated('docs/deploy.md', `device set holds, at most ${MOST_DEVICES_PER_USER} (`);
    expectStated('docs/architecture.md', `at most ${LEAN_MAX_USERS} users or ${LEAN_MAX_TOKENS} tokens`);
    expectStated(
      'docs/decisions/lean-jobs.md',
      `\`LEAN_MAX_USERS\` (${LEAN_MAX_USERS}) users or \`LEAN_MAX_TOKENS\` (${LEAN_MAX_TOKENS}) tokens`,
    );
    expectStated('docs/push-privacy.md', `default cap of ${DEFAULT_MAX_DEVICES_PER_USER}`);
  });

  it("the README's promises: the Node versions package.json's engines accept, the recipients of one send", () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
    // "^20.19.0 || ^22.13.0 || >=24.0.0": the oldest line, the middle one, the newest.
    const [oldest, middle, newest] = engines.node.split('||').map((range) =>
      range
        .trim()
        .replace(/^[\^>=]+/, '')
        .replace(/\.0$/, ''),
    );
    expect(newest?.startsWith('24')).toBe(true);
    for (const file of ['README.md', 'docs/deploy.md']) {
      expectStated(file, `Node.js ${oldest} or later`);
      expectStated(file, `(${middle}+ and ${newest?.split('.')[0]} work too`);
    }
    expectStated('README.md', `(or ${spaced(MAX_RECIPIENTS_PER_JOB)} users)`);
  });

  it("docs/api.md's limits: tokens, bodies, nesting, expiry, tracking, pages, re-push", () => {
    expectStated('docs/api.md', `lowercase hex, ${MIN_TOKEN_BYTES}–${MAX_TOKEN_BYTES} bytes`);
    expectStated('docs/api.md', `Bodies over ${MAX_REGISTER_BODY_BYTES / 1024} KiB: 413`);
    expectStated('docs/api.md', `is at most ${MAX_SEND_BODY_BYTES / 1024 / 1024} MiB`);
    expectStated('docs/api.md', `may nest at most **${MAX_JSON_NESTING}** levels`);
    expectStated('docs/api.md', `not refreshed for **${DEVICE_TTL_DAYS} days** expires`);
    expectStated('docs/ios.md', `refreshes the ${DEVICE_TTL_DAYS}-day expiry`);
    expectStated('docs/android.md', `refreshes the ${DEVICE_TTL_DAYS}-day expiry`);
    expectStated('docs/api.md', `kept **${TRACKING_TTL_DAYS} days**`);
    // The tracking statuses, in the code's order, each with its gloss.
    const statuses = flat('docs/api.md').match(/each device's status — (.*?) — kept/)?.[1] ?? '';
    const named = [...statuses.replace(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map(([, status]) => status);
    expect(named).toEqual([...DEVICE_STATUSES]);
    expectStated('docs/api.md', `(default and maximum ${spaced(MAX_PAGE_DEVICES)};`);
    // The bounds of the send job's fields, from its published JSON Schema (made from the zod one).
    const sendJob = JSON.parse(read('schema/send-job.schema.json')) as {
      properties: {
        track: {
          properties: Record<'repushAfterSeconds' | 'maxRepushes', { minimum: number; maximum: number }>;
        };
        apns: { properties: { collapseId: { maxLength: number } } };
      };
    };
    const { repushAfterSeconds: after, maxRepushes: rounds } = sendJob.properties.track.properties;
    expectStated(
      'docs/api.md',
      `(\`repushAfterSeconds\` ${after.minimum}–${after.maximum}, \`maxRepushes\` ${rounds.minimum}–${rounds.maximum}, default ${DEFAULT_MAX_REPUSHES})`,
    );
    expectStated(
      'docs/api.md',
      `sent as an HTTP header: 1–${sendJob.properties.apns.properties.collapseId.maxLength} printable ASCII characters`,
    );
    expectStated('docs/api.md', `(\`devices.maxPerUser\`, **${DEFAULT_MAX_DEVICES_PER_USER}** by default)`);
  });

  it("docs/deploy.md's configuration table has every key of pushgate.config.ts's stages, with its default", () => {
    // A stage's settings are the construct's props (its `name` comes from the stage) and its `env`.
    const defaults = pushgatePropsSchema.parse({
      apps: [{ appId: 'com.acme.chat', bundleId: 'com.acme.chat' }],
      auth: { jwt: { issuer: 'https://auth.acme.com/', audience: ['chat'] } },
    });
    const rows = new Map(
      tableRows('docs/deploy.md', 'key').map(([key = '', , byDefault = '']) => [
        key.replace(/`/g, ''),
        byDefault,
      ]),
    );
    const keys = new Set([...rows.keys()].map((key) => key.split('.')[0]));
    expect([...keys].sort()).toEqual(
      [...Object.keys(pushgatePropsSchema.shape).filter((key) => key !== 'name'), 'env'].sort(),
    );
    expect(rows.get('api')).toBe(`${defaults.api.throttle.rateLimit}, ${defaults.api.throttle.burstLimit}`);
    expectStated(
      'docs/runbook.md',
      `${spaced(defaults.api.throttle.rateLimit)} requests per second with a burst of ${spaced(defaults.api.throttle.burstLimit)} by default`,
    );
    expect(rows.get('alarms')).toBe(`\`backlogAgeSeconds\` ${defaults.alarms.backlogAgeSeconds}`);
    expect(rows.get('devices')).toBe(String(defaults.devices.maxPerUser));
    expect(rows.get('sender')).toMatch(new RegExp(`^${defaults.sender.maxConcurrency}, none `));
  });

  it('every stack output the docs name is one infra/pushgate-stack.ts gives', () => {
    const source = read('infra/pushgate-stack.ts');
    const given = [...source.matchAll(/output\(\s*['`]([A-Za-z]+)(\$\{)?/g)];
    const fixed = new Set(given.filter(([, , templated]) => !templated).map(([, name = '']) => name));
    const perApp = given.filter(([, , templated]) => templated).map(([, name = '']) => name);
    expect(fixed).toContain('SendQueueUrl');
    expect(perApp).toEqual(['ApnsSecret', 'FcmSecret']);
    const named = DOCS.flatMap((file) => {
      const text = flat(file);
      return [
        ...[...text.matchAll(/outputs?:? ((?:`[^`]+`(?:, | and | or |,? )?)+)/gi)].flatMap(([, list = '']) =>
          [...list.matchAll(/`([^`]+)`/g)].map(([, name = '']) => name),
        ),
        ...[...text.matchAll(/\bout (\w+)\)/g)].map(([, name = '']) => name),
      ].map((name) => ({ file, name }));
    });
    expect(named.length).toBeGreaterThanOrEqual(20);
    const unknown = named.filter(
      ({ name }) =>
        !fixed.has(name) &&
        !perApp.some((prefix) => /^[<…a-z]/.test(name.slice(prefix.length)) && name.startsWith(prefix)),
    );
    expect(unknown).toEqual([]);
  });

  it("docs/api.md's error table lists every code of ERROR_CODES with its status, and no other", () => {
    const documented = tableRows('docs/api.md', 'status').flatMap(([status = '', codes = '']) =>
      [...codes.matchAll(/`(\w+)`/g)].map(([, code]) => `${status} ${code}`),
    );
    const codes = Object.entries(ERROR_CODES).map(([code, [status]]) => `${status} ${code}`);
    expect(documented.sort()).toEqual(codes.sort());
  });

  it("docs/architecture.md's outcome table is the outcome list: each outcome's meaning, metric and status, and no other", () => {
    const rows = tableRows('docs/architecture.md', 'outcome');
    const listed = OUTCOME_NAMES.map((outcome) => {
      const { meaning, metric, status } = OUTCOMES[outcome];
      return [`\`${outcome}\``, meaning, `\`${metric}\``, `\`${status}\``];
    });
    expect(rows).toEqual(listed);
    // The metrics are the list's, and the report's statuses are the API's.
    expect(OUTCOME_METRICS).toEqual(
      Object.fromEntries(OUTCOME_NAMES.map((outcome) => [outcome, OUTCOMES[outcome].metric])),
    );
    for (const { status } of Object.values(OUTCOMES)) expect(DEVICE_STATUSES).toContain(status);
    expectStated('docs/architecture.md', `\`${JOBS_DEAD_LETTERED}\``);
    const inWords = ['none', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    expectStated('docs/architecture.md', `one of ${inWords[OUTCOME_NAMES.length]}, counted in a metric`);
    expectStated(
      'docs/architecture.md',
      `one of the ${inWords[DEVICE_STATUSES.length]} a tracked job's report shows ([api.md](api.md)): ${DEVICE_STATUSES.map((status) => `\`${status}\``).join(', ')}.`,
    );
  });

  it("docs/runbook.md explains every dead-letter reason the sender writes by name, and SQS's own", () => {
    // The reasons written literally (`new JobFailedError('UnknownApp', …)`), found in the source.
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [read(join(dir, entry.name))]
            : [],
      );
    const literal = sources('lambda').flatMap((source) =>
      [...source.matchAll(/new JobFailedError\(\s*'(\w+)'/g)].map(([, reason = '']) => reason),
    );
    expect(literal.length).toBeGreaterThanOrEqual(4);
    // A job the payload compilers refuse goes with their error's code (delivery/plan.ts).
    const compilers = ['lambda/domain/apns-request.ts', 'lambda/domain/fcm-message.ts'].flatMap((file) =>
      [...read(file).matchAll(/new InvalidRequestError\([^;]*?'(\w+)',?\s*\)/gs)].map(
        ([, code = '']) => code,
      ),
    );
    expect(compilers).toContain('ReservedDataKey');
    // FCM's credential refusals go with the answer's own code, not a literal: the list the alarm watches.
    const reasons = new Set([
      ...literal,
      ...compilers,
      ...FCM_CREDENTIAL_CODES,
      new PayloadTooLargeError(2, 1).code,
      MOVED_BY_SQS,
    ]);
    const table = tableRows('docs/runbook.md', 'reason')
      .map(([reason = '']) => reason)
      .join('\n');
    for (const reason of reasons) expect(table, reason).toContain(`\`${reason}\``);
  });

  it("docs/api.md's route tables list every route of infra/api-routes.ts with its auth, and no other", () => {
    const documented = read('docs/api.md')
      .split('\n')
      .flatMap((line) => {
        const match = line.match(/^\| `(GET|PUT|POST|DELETE) (\/[^`]+)`\s*\| (JWT|IAM)\s*\|/);
        return match ? [`${match[1]} ${match[2]} ${match[3]}`] : [];
      });
    const routes = API_ROUTES.map(({ method, path, auth }) => `${method} ${path} ${auth.toUpperCase()}`);
    expect(documented.sort()).toEqual([...routes].sort());
  });

  it('docs/decisions/README.md indexes every decision record, and the README links the index', () => {
    const index = read('docs/decisions/README.md');
    const records = readdirSync('docs/decisions').filter((file) => file !== 'README.md');
    expect(records.length).toBeGreaterThanOrEqual(11);
    for (const file of records) expect(index, file).toContain(`](${file})`);
    expect(read('README.md')).toContain('](docs/decisions/README.md)');
  });

  it("the docs name the Devices table's indexes, and every kind of Notifications item the code writes and no other", () => {
    for (const file of ['docs/architecture.md', 'docs/deploy.md']) {
      for (const index of [DEVICES_TABLE.userIndex.name, DEVICES_TABLE.liveActivityIndex.name])
        expectStated(file, index);
    }
    const keys = read('lambda/adapters/secondary/notifications-keys.ts');
    const written = new Set(
      [...keys.matchAll(/[`'](?:\$\{[^}]*\})?([a-z-]+)#/g)].map(([, prefix]) => prefix),
    );
    expect(written.size).toBeGreaterThanOrEqual(6);
    // Every kind of item the code writes is in the table of docs/architecture.md …
    const table = read('docs/architecture.md')
      .split('\n')
      .filter((line) => line.startsWith('| Notifications table'))
      .join('\n');
    for (const prefix of written) expect(table, prefix).toContain(`\`${prefix}#`);
    // … and no document names one the code does not write.
    const named = DOCS.flatMap((file) =>
      [...read(file).matchAll(/`([a-z-]+)#/g)].map(([, prefix = '']) => ({ file, prefix })),
    );
    expect(named.length).toBeGreaterThanOrEqual(6);
    expect(named.filter(({ prefix }) => !written.has(prefix))).toEqual([]);
  });

  it("docs/costs.md's cost tables and the docs' read cost are bench/results.json's", () => {
    const { costPerMillion } = BENCH;
    // The chat scenarios count pushes, not these columns: they have a table of their own.
    const isChat = (scenario: { scenario: string }) => scenario.scenario.startsWith('chat');
    const scenarios = costPerMillion.scenarios.filter((scenario) => !isChat(scenario));
    const chat = costPerMillion.scenarios.filter(isChat);
    expect(tableRows('docs/costs.md', 'chat scenario')).toEqual(
      chat.map((scenario) => [scenario.scenario, `$${scenario.dollarsPerMillion.toFixed(3)}`]),
    );
    const rows = tableRows('docs/costs.md', 'scenario (10 000 notifications)');
    expect(rows).toHaveLength(scenarios.length);
    scenarios.forEach((scenario, i) => {
      const { counts } = scenario;
      expect(rows[i]?.slice(1)).toEqual([
        String(counts.sqsRequests),
        spaced(Math.round(counts.dynamoReadUnits)),
        spaced(Math.round(counts.dynamoWriteUnits)),
        scenario.readUnitsPerPush.toFixed(3),
        counts.lambdaGbSeconds.toFixed(1),
        `**$${scenario.dollarsPerMillion.toFixed(3)}**`,
      ]);
    });
    const [untracked, tracked] = scenarios;
    const sets = untracked?.dynamoLinesPerMillion['devices:batch get'] ?? Number.NaN;
    expectStated('docs/costs.md', `in one \`BatchGetItem\` per 100 users ($${sets.toFixed(4)}/M;`);
    expectStated('docs/push-privacy.md', `$${sets.toFixed(4)} per million pushes`);
    // The figures the prose under the table quotes.
    const progress = untracked?.dynamoLinesPerMillion['notifications:writes'] ?? Number.NaN;
    expectStated('docs/costs.md', `chunk progress writes ($${progress.toFixed(4)}/M)`);
    const compute = (scenario?: Scenario) => scenario?.breakdownPerMillion.lambdaCompute ?? Number.NaN;
    expectStated('docs/costs.md', `it was $${compute(tracked).toFixed(4)} in the run above`);
    expectStated('docs/costs.md', `$${compute(untracked).toFixed(4)} untracked`);
    const trackedLines = tracked?.dynamoLinesPerMillion ?? {};
    const reads = (trackedLines['devices:batch get'] ?? 0) + (trackedLines['notifications:batch get'] ?? 0);
    const writes = trackedLines['notifications:writes'] ?? Number.NaN;
    expectStated(
      'docs/costs.md',
      `$${(reads + writes).toFixed(4)}/M (reads $${reads.toFixed(4)}, writes $${writes.toFixed(4)})`,
    );
    expectStated('docs/costs.md', `($${(untracked?.dataOutToApnsPerMillion ?? Number.NaN).toFixed(3)}/M)`);
    const receipt = tracked?.receipt;
    expectStated(
      'docs/costs.md',
      `One receipt: ${receipt?.dynamoReadUnits} RRU + ${receipt?.dynamoWriteUnits} WRU, with API Gateway and Lambda $${receipt?.dollarsPerMillion.toFixed(2)} per million receipts`,
    );
    expectStated(
      'docs/costs.md',
      `SNS mobile push charges $${costPerMillion.prices.snsMobilePushPerMillionPublishes.toFixed(2)} per million publishes`,
    );
    const { prices } = costPerMillion;
    // As a price list writes them: cents at least, every digit the price has.
    const perMillion = (dollars: number) =>
      `$${dollars.toFixed(Math.max(2, (String(dollars).split('.')[1] ?? '').length))}/M`;
    expectStated('docs/costs.md', `SQS ${perMillion(prices.sqsPerMillionRequests)} requests`);
    expectStated(
      'docs/costs.md',
      `DynamoDB on-demand ${perMillion(prices.dynamoPerMillionWriteUnits)} WRU and ${perMillion(prices.dynamoPerMillionReadUnits)} RRU`,
    );
    expectStated(
      'docs/costs.md',
      `Lambda arm64 $${prices.lambdaArmPerGbSecond.toFixed(10)}/GB-s and ${perMillion(prices.lambdaPerMillionRequests)} requests`,
    );
    expectStated('docs/costs.md', `HTTP API ${perMillion(prices.httpApiPerMillionRequests)}`);
    expectStated('docs/costs.md', `data out $${prices.dataOutPerGb.toFixed(2)}/GB`);
  });

  it("docs/costs.md's speed table is bench/results.json's", () => {
    const { lambdas, apnsThroughput, fcmThroughput, latency, offlineStartSeconds, functionGrants, targets } =
      BENCH;
    const routes = lambdas.filter(({ name }) => name !== 'sender');
    const sender = lambdas.find(({ name }) => name === 'sender');
    const kb = (bytes: number) => Math.round(bytes / 1024);
    const range = (values: number[], unit: string) =>
      `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))} ${unit}`;
    const apns = (client: string) => throughputRow(apnsThroughput.rows, client);
    const fcm = (client: string) => throughputRow(fcmThroughput.rows, client);
    const raw = apns('raw node:http2, one session (ceiling)');
    const gateway = apns('pushgate gateway');
    const goaway = apns('pushgate gateway, GOAWAY every 1000 streams');
    const allInOne = apns('node-apn send(), all 20 000 in one call');
    const fcmRaw = fcm('raw node:http2, one session (ceiling)');
    const fcmGateway = fcm('pushgate FCM gateway');
    const seconds = (ms: number, digits: number) => `${(ms / 1000).toFixed(digits)} s`;
    const times = ({ acceptMs, firstPushMs, lastPushMs }: EndToEnd) =>
      `${seconds(acceptMs, 2)} / ${seconds(firstPushMs, 2)} / ${seconds(lastPushMs, 1)}`;
    const { chat, chatBatch, endToEnd, endToEndOnLambdaRuntime } = latency;
    expect(tableRows('docs/costs.md', 'what')).toEqual([
      [
        'route Lambdas, minified bundle',
        `${range(
          routes.map((l) => kb(l.bundleBytes)),
          'KB',
        )} each (target ≤ ${targets.registryBundleKB} KB)`,
      ],
      [
        'route Lambdas, cold import on Node 24 (median of 7 each)',
        `${range(
          routes.map((l) => l.coldInitMsMedian),
          'ms',
        )} (target ≤ ${targets.registryColdInitMs} ms)`,
      ],
      [
        'sender bundle / cold import',
        `${kb(sender?.bundleBytes ?? Number.NaN)} KB / ${Math.round(sender?.coldInitMsMedian ?? Number.NaN)} ms`,
      ],
      [
        `${spaced(apnsThroughput.notifications)} notifications a round to the APNs simulator: raw \`node:http2\`, 1 session (ceiling)`,
        `${spaced(raw.perSecond)} /s (median of ${raw.roundsPerSecond.length} rounds)`,
      ],
      [
        "the same through pushgate's APNs gateway",
        `${spaced(gateway.perSecond)} /s = **${apnsThroughput.gatewayVsRaw.toFixed(2)} × raw**, ${gateway.failed} failures (target ≥ ${targets.gatewayVsRaw})`,
      ],
      [
        'the APNs gateway with GOAWAY every 1 000 streams',
        `${spaced(goaway.perSecond)} /s, ${goaway.failed} failures, **${goaway.duplicates} duplicates** (${goaway.goaways} GOAWAYs)`,
      ],
      [
        '`@parse/node-apn` `send()`, 1 000 recipients per call',
        `${spaced(apns('node-apn send(), 1 000 per call').perSecond)} /s`,
      ],
      [
        `\`@parse/node-apn\` \`send()\`, all ${spaced(apnsThroughput.notifications)} in one call`,
        `${spaced(allInOne.failed)} of ${spaced(allInOne.sent)} failed`,
      ],
      [
        `${spaced(fcmThroughput.notifications)} messages a round to the FCM simulator: raw \`node:http2\`, 1 session (ceiling)`,
        `${spaced(fcmRaw.perSecond)} /s (median of ${fcmRaw.roundsPerSecond.length} rounds)`,
      ],
      [
        "the same through pushgate's FCM gateway",
        `${spaced(fcmGateway.perSecond)} /s = **${fcmThroughput.gatewayVsRaw.toFixed(2)} × raw**, ${fcmGateway.failed} failures (target ≥ ${targets.gatewayVsRaw})`,
      ],
      [
        `one request to ${spaced(endToEnd.devices)} devices (\`bench -- latency\`): accepted / first push / last push`,
        `${times(endToEnd)} on Node 20; ${times(endToEndOnLambdaRuntime)} on Node 24`,
      ],
      [
        `a chat message to one device: \`POST /v1/notifications\` to APNs's answer (p50 / p95 of ${chat.sends}, one at a time)`,
        `${chat.p50Ms} ms / ${chat.p95Ms} ms`,
      ],
      [
        `${chatBatch.jobs / chatBatch.batches} such jobs in one \`POST /v1/notification-batches\` to the last APNs answer (p50 / p95 of ${chatBatch.batches})`,
        `${chatBatch.p50Ms} ms / ${chatBatch.p95Ms} ms`,
      ],
      [
        '`npm start` until the API answers',
        `${offlineStartSeconds.secondsMedian} s (target < ${targets.offlineStartSeconds} s)`,
      ],
      [
        'offline grant check, per SDK call in an invocation (`bench -- grants`)',
        `${functionGrants.checkMicrosPerCall.toFixed(2)} µs`,
      ],
    ]);
    expect(endToEnd.node).toMatch(/^v20\./);
    expect(endToEndOnLambdaRuntime.node).toMatch(/^v24\./);
  });
});
