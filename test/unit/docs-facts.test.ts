import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { SENDER_DURATION_ALARM_SHARE } from '../../infra/constructs/operations';
import { SEND_QUEUE, SENDER } from '../../infra/queue-settings';
import { MAX_PAGE_TOKEN_LENGTH } from '../../lambda/adapters/primary/get-notification/page-token';
import { MAX_JOBS_PER_BATCH } from '../../lambda/adapters/primary/send-notification-batch/schema';
import { DEVICES_TABLE } from '../../lambda/adapters/secondary/devices-keys';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../lambda/adapters/secondary/http2/push-connection';
import {
  IDEMPOTENCY_WINDOW_DAYS,
  PROGRESS_TTL_DAYS,
  TRACKING_SHARDS,
} from '../../lambda/adapters/secondary/notifications-keys';
import {
  DEFAULT_MAX_DEVICES_PER_USER,
  MAX_SET_ENTRY_BYTES,
  MOST_DEVICES_PER_USER,
} from '../../lambda/domain/device-set';
import { PayloadTooLargeError } from '../../lambda/domain/errors';
import {
  ITEM_KEY_PREFIXES,
  MAX_FCM_TOKEN_LENGTH,
  MAX_KEYED_TOKEN_LENGTH,
} from '../../lambda/domain/fcm-token';
import { ACTIVITIES_PER_PART, TOKENS_PER_PART, USERS_PER_PART } from '../../lambda/domain/job-part';
import { LEAN_MAX_TOKENS, LEAN_MAX_USERS } from '../../lambda/domain/lean-job';
import {
  BASE_DELAY_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  MAX_SQS_DELAY_SECONDS,
} from '../../lambda/domain/retry-policy';
import { MAX_RECIPIENTS_PER_JOB } from '../../lambda/domain/send-job';
import { TRACKING_TTL_DAYS } from '../../lambda/domain/tracking';
import { JOBS_DEAD_LETTERED, OUTCOME_METRICS } from '../../lambda/metric-names';
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
      'README.md',
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
    expectStated('README.md', `${share}% of its ${SENDER.timeoutSeconds} s timeout`);
    const batches = statedNumbers(/\bbatch (\d+)\b/g);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.filter(({ value }) => value !== SENDER.batchSize)).toEqual([]);
    expectStated('docs/architecture.md', `\`maxConcurrency\` ${SENDER.maxConcurrency}`);
    expectStated('README.md', `at most ${SENDER.maxConcurrency} concurrent invocations by default`);
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
    for (const prefix of Object.values(ITEM_KEY_PREFIXES)) expectStated('docs/api.md', `\`${prefix}\``);
    const setKb = MAX_SET_ENTRY_BYTES / 1024;
    expectStated('README.md', `past ${setKb} KB of entries`);
    expectStated('docs/fcm.md', `\`MAX_SET_ENTRY_BYTES\` (${setKb} KB`);
    expectStated('docs/decisions/long-fcm-tokens.md', `\`MAX_SET_ENTRY_BYTES\` (${setKb} KB;`);
    expectStated('docs/fcm.md', `\`MAX_PAGE_TOKEN_LENGTH\` (${spaced(MAX_PAGE_TOKEN_LENGTH)}) characters`);
  });

  it('how long the send queue and its dead-letter queue keep a job, and the Notifications table its records', () => {
    const dlqDays = SEND_QUEUE.deadLetterRetentionDays;
    expectStated('README.md', `its DLQ (${dlqDays} days)`);
    expectStated('README.md', `the queue keeps them ${SEND_QUEUE.retentionDays} days`);
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
    const delays = `(${BASE_DELAY_SECONDS} s, ${2 * BASE_DELAY_SECONDS} s, … ≤ ${MAX_SQS_DELAY_SECONDS / 60} min,`;
    expectStated('README.md', delays);
    expectStated(
      'docs/apns.md',
      `${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s by default (\`APNS_REQUEST_TIMEOUT_MS\`)`,
    );
  });

  it('the limits of a send: recipients, job parts, batch, devices per user', () => {
    const parts = `${spaced(USERS_PER_PART)} users, ${spaced(TOKENS_PER_PART)} tokens or ${spaced(ACTIVITIES_PER_PART)} activities`;
    expectStated('docs/architecture.md', `job parts of ${parts}`);
    expectStated(
      'docs/api.md',
      `**${spaced(MAX_RECIPIENTS_PER_JOB)}** per request (the API splits them into jobs of ${spaced(USERS_PER_PART)} users / ${spaced(TOKENS_PER_PART)} tokens / ${spaced(ACTIVITIES_PER_PART)}`,
    );
    expectStated('docs/architecture.md', `with up to ${MAX_JOBS_PER_BATCH} jobs`);
    expectStated('docs/api.md', `1–${MAX_JOBS_PER_BATCH} send jobs`);
    expectStated('README.md', `(${DEFAULT_MAX_DEVICES_PER_USER} by default;`);
    expectStated('README.md', `device set holds, at most ${MOST_DEVICES_PER_USER} (`);
    expectStated('docs/architecture.md', `at most ${LEAN_MAX_USERS} users or ${LEAN_MAX_TOKENS} tokens`);
    expectStated(
      'docs/decisions/lean-jobs.md',
      `\`LEAN_MAX_USERS\` (${LEAN_MAX_USERS}) users or \`LEAN_MAX_TOKENS\` (${LEAN_MAX_TOKENS}) tokens`,
    );
    expectStated('docs/recipients.md', `default cap of ${DEFAULT_MAX_DEVICES_PER_USER}`);
  });

  it('docs/architecture.md lists every delivery outcome with its metric, and no other', () => {
    const rows = tableRows('docs/architecture.md', 'outcome').map(([outcome = '', , metric = '']) => [
      outcome.replace(/`/g, ''),
      metric.replace(/`/g, ''),
    ]);
    expect(Object.fromEntries(rows)).toEqual(OUTCOME_METRICS);
    expectStated('docs/architecture.md', `\`${JOBS_DEAD_LETTERED}\``);
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
    const reasons = new Set([...literal, ...compilers, new PayloadTooLargeError(2, 1).code, MOVED_BY_SQS]);
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

  it('the README links every decision record', () => {
    const readme = read('README.md');
    for (const file of readdirSync('docs/decisions'))
      expect(readme, file).toContain(`(docs/decisions/${file})`);
  });

  it("the docs name the Devices table's indexes, and every kind of Notifications item the code writes and no other", () => {
    for (const file of ['docs/architecture.md', 'README.md']) {
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

  it("the README's cost table and the docs' read cost are bench/results.json's", () => {
    const results = JSON.parse(read('bench/results.json')) as {
      costPerMillion: {
        scenarios: {
          scenario: string;
          counts: {
            sqsRequests: number;
            dynamoReadUnits: number;
            dynamoWriteUnits: number;
            lambdaGbSeconds: number;
          };
          readUnitsPerPush: number;
          dollarsPerMillion: number;
          dynamoLinesPerMillion: Record<string, number>;
        }[];
      };
    };
    // The chat scenarios count pushes, not these columns: they have a table of their own.
    const isChat = (scenario: { scenario: string }) => scenario.scenario.startsWith('chat');
    const scenarios = results.costPerMillion.scenarios.filter((scenario) => !isChat(scenario));
    const chat = results.costPerMillion.scenarios.filter(isChat);
    expect(tableRows('README.md', 'chat scenario')).toEqual(
      chat.map((scenario) => [scenario.scenario, `$${scenario.dollarsPerMillion.toFixed(3)}`]),
    );
    const rows = tableRows('README.md', 'scenario (10 000 notifications)');
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
    const sets = scenarios[0]?.dynamoLinesPerMillion['devices:batch get'] ?? Number.NaN;
    expectStated('README.md', `($${sets.toFixed(4)}/M; docs/recipients.md)`);
    expectStated('docs/recipients.md', `$${sets.toFixed(4)} per million pushes`);
  });
});
