import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SEND_QUEUE } from '../infra/queue-settings';

/**
 * `npm run redrive`: moves dead-lettered jobs back to the send queue.
 *
 * The sender dead-letters jobs itself, with SendMessage, so they carry no source
 * queue and SQS's own redrive (start-message-move-task) has nowhere to return them.
 * This tool receives each one, sends it to the send queue with its body and message
 * attributes (minus the failure attributes), and deletes it from the DLQ only after
 * that send succeeded. `--dry-run` only lists what is there, by reason.
 */

const USAGE = `Usage: npm run redrive -- [where] [options]

Moves jobs from pushgate's dead-letter queue back to its send queue: each one is sent
with its original body and attributes, and deleted from the DLQ only once that send
succeeded. Fix the cause first (the reasons below say what failed).

Where the queues are, one of:
  --stage <stage>                the stage's stack (<stage>-pushgate) and region, from pushgate.config.ts
  --stack <name>                 a stack's outputs SendQueueUrl and DeadLetterQueueUrl
  --send-queue-url <url> --dead-letter-queue-url <url>
                                 the queues themselves (offline: GET /_local/queues)

Options:
  --dry-run              list the jobs by pushgate-failure-reason; change nothing
  --reason <reason>      move only jobs with this reason (repeatable); MaxReceiveCountExceeded
                         names jobs SQS moved after ${SEND_QUEUE.maxReceiveCount} failed receives
  --max <n>              move at most n jobs
  --region <region>      the AWS region (default: the stage's, the queue URL's, or the SDK's)
  --endpoint-url <url>   an SQS endpoint other than AWS's, e.g. the offline one of npm start
  --json                 print the result as JSON
  -h, --help             this text (needs no credentials)

Examples:
  npm run redrive -- --stage prod --dry-run
  npm run redrive -- --stage prod --reason CredentialsUnavailable
  # offline: all three values from GET /_local/queues of npm start
  npm run redrive -- --endpoint-url <endpoint> \\
    --send-queue-url <sendQueueUrl> --dead-letter-queue-url <deadLetterQueueUrl>`;

/** The group of jobs SQS moved by itself (its redrive policy), which carry no pushgate reason. */
export const MOVED_BY_SQS = 'MaxReceiveCountExceeded';
const REASON = 'pushgate-failure-reason';
const DETAIL = 'pushgate-failure-detail';
/** Attributes the sender adds when it dead-letters a job; the job goes back without them. */
const FAILURE_ATTRIBUTES = new Set([REASON, DETAIL, 'pushgate-failed-at']);
/** Long enough that one pass never sees a message twice; released at the end either way. */
const VISIBILITY_TIMEOUT_SECONDS = 300;
/** SQS caps a message, and a whole batch, at 1 MiB; stay below with room for the framing. */
const MAX_BATCH_BYTES = 1_000_000;

export interface RedriveOptions {
  sqs: SQSClient;
  sendQueueUrl: string;
  deadLetterQueueUrl: string;
  dryRun: boolean;
  /** Move only jobs with one of these reasons. */
  reasons?: ReadonlySet<string>;
  /** Move at most this many. */
  max?: number;
}

export interface ReasonGroup {
  count: number;
  /** A few notification ids, to look them up (GET /v1/notifications/{id}). */
  notificationIds: string[];
  /** The first job's failure detail. */
  detail?: string;
}

export interface RedriveResult {
  dryRun: boolean;
  deadLetterQueueUrl: string;
  sendQueueUrl: string;
  /** Jobs seen on the DLQ, by reason. */
  byReason: Record<string, ReasonGroup>;
  found: number;
  moved: number;
  /** Sends the send queue refused: those jobs stay on the DLQ. */
  failed: number;
  /** Sent but not deleted from the DLQ: they will be seen again (the sender skips what it completed). */
  notDeleted: number;
}

export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs, sendQueueUrl, deadLetterQueueUrl, dryRun } = options;
  const result: RedriveResult = {
    dryRun,
    deadLetterQueueUrl,
    sendQueueUrl,
    byReason: {},
    found: 0,
    moved: 0,
    failed: 0,
    notDeleted: 0,
  };
  /** Received but staying on the DLQ (dry run, other reasons, over --max, failed sends): released at the end. */
  const held = new Map<string, string>();
  const seen = new Set<string>();
  let selected = 0;
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          // Long polling asks every SQS server, so an empty answer means an empty queue.
          WaitTimeSeconds: 1,
          VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
          MessageAttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
      for (const message of Messages) {
        if (
          message.MessageId !== undefined &&
          message.ReceiptHandle !== undefined &&
          seen.has(message.MessageId)
        )
          held.set(message.MessageId, message.ReceiptHandle);
      }
      if (fresh.length === 0) break;
      const toMove: Message[] = [];
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        const reason = reasonOf(message);
        tally(result, reason, message);
        const wanted =
          !dryRun &&
          (options.reasons === undefined || options.reasons.has(reason)) &&
          (options.max === undefined || selected < options.max);
        if (wanted) {
          toMove.push(message);
          selected++;
        } else if (message.MessageId !== undefined && message.ReceiptHandle !== undefined) {
          held.set(message.MessageId, message.ReceiptHandle);
        }
      }
      for (const batch of batches(toMove)) await move(options, batch, result, held);
    }
  } finally {
    await release(sqs, deadLetterQueueUrl, held);
  }
  return result;
}

/** Sends one batch to the send queue, then deletes from the DLQ exactly the ones that were sent. */
async function move(
  options: RedriveOptions,
  batch: Message[],
  result: RedriveResult,
  held: Map<string, string>,
): Promise<void> {
  const { sqs } = options;
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: options.sendQueueUrl,
      Entries: batch.map((message, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? '',
        ...(attributesToKeep(message) === undefined ? {} : { MessageAttributes: attributesToKeep(message) }),
      })),
    }),
  );
  const succeeded = new Set((sent.Successful ?? []).map((entry) => Number(entry.Id)));
  const toDelete = batch.filter((_, index) => succeeded.has(index));
  for (const [index, message] of batch.entries()) {
    if (succeeded.has(index)) continue;
    result.failed++;
    if (message.MessageId !== undefined && message.ReceiptHandle !== undefined)
      held.set(message.MessageId, message.ReceiptHandle);
  }
  if (toDelete.length === 0) return;
  const deleted = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.deadLetterQueueUrl,
      Entries: toDelete.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle ?? '',
      })),
    }),
  );
  result.moved += toDelete.length;
  result.notDeleted += deleted.Failed?.length ?? 0;
}

/** Makes the messages that stay on the DLQ visible again at once. */
async function release(sqs: SQSClient, queueUrl: string, held: Map<string, string>): Promise<void> {
  const handles = [...held.values()];
  for (let start = 0; start < handles.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: handles.slice(start, start + 10).map((handle, index) => ({
          Id: String(index),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

function reasonOf(message: Message): string {
  return message.MessageAttributes?.[REASON]?.StringValue ?? MOVED_BY_SQS;
}

function tally(result: RedriveResult, reason: string, message: Message): void {
  result.found++;
  const group = result.byReason[reason] ?? { count: 0, notificationIds: [] };
  result.byReason[reason] = group;
  group.count++;
  const id = notificationIdOf(message.Body);
  if (id !== undefined && group.notificationIds.length < 3 && !group.notificationIds.includes(id))
    group.notificationIds.push(id);
  const detail = message.MessageAttributes?.[DETAIL]?.StringValue;
  if (group.detail === undefined && detail !== undefined) group.detail = detail;
}

/** A send job's id, or the one of the sender's follow-up work (`{job: {notificationId}}`). */
function notificationIdOf(body: string | undefined): string | undefined {
  try {
    const value = JSON.parse(body ?? '') as { notificationId?: unknown; job?: { notificationId?: unknown } };
    const id = value.job?.notificationId ?? value.notificationId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function attributesToKeep(message: Message): Record<string, MessageAttributeValue> | undefined {
  const kept = Object.entries(message.MessageAttributes ?? {}).filter(
    ([name]) => !FAILURE_ATTRIBUTES.has(name),
  );
  if (kept.length === 0) return undefined;
  return Object.fromEntries(
    kept.map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
      },
    ]),
  );
}

/** Batches of at most 10 messages and MAX_BATCH_BYTES (bodies plus attributes). */
function batches(messages: Message[]): Message[][] {
  const all: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length === 10 || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      all.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) all.push(current);
  return all;
}

function sizeOf(message: Message): number {
  let size = Buffer.byteLength(message.Body ?? '');
  for (const [name, value] of Object.entries(attributesToKeep(message) ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    size += Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}

// ---- command line ----

class UsageError extends Error {}

interface Cli {
  dryRun: boolean;
  json: boolean;
  reasons?: Set<string>;
  max?: number;
  region?: string;
  endpointUrl?: string;
  stage?: string;
  stack?: string;
  sendQueueUrl?: string;
  deadLetterQueueUrl?: string;
}

function parseCli(argv: string[]): Cli | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      reason: { type: 'string', multiple: true },
      max: { type: 'string' },
      region: { type: 'string' },
      'endpoint-url': { type: 'string' },
      stage: { type: 'string' },
      stack: { type: 'string' },
      'send-queue-url': { type: 'string' },
      'dead-letter-queue-url': { type: 'string' },
    },
  });
  if (values.help) return 'help';
  const urls = [values['send-queue-url'], values['dead-letter-queue-url']].filter((url) => url !== undefined);
  const sources = [values.stage, values.stack, urls.length > 0 ? 'urls' : undefined].filter(Boolean);
  if (sources.length !== 1) {
    throw new UsageError(
      'Say where the queues are: --stage, --stack, or both queue URLs (exactly one of these).',
    );
  }
  if (urls.length === 1) throw new UsageError('Give both --send-queue-url and --dead-letter-queue-url.');
  if (values['endpoint-url'] !== undefined && urls.length === 0) {
    throw new UsageError('With --endpoint-url, give the queue URLs too (offline: GET /_local/queues).');
  }
  let max: number | undefined;
  if (values.max !== undefined) {
    max = Number(values.max);
    if (!Number.isInteger(max) || max < 1) throw new UsageError('--max takes a whole number of at least 1.');
  }
  return {
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    ...(values.reason === undefined ? {} : { reasons: new Set(values.reason) }),
    ...(max === undefined ? {} : { max }),
    ...(values.region === undefined ? {} : { region: values.region }),
    ...(values['endpoint-url'] === undefined ? {} : { endpointUrl: values['endpoint-url'] }),
    ...(values.stage === undefined ? {} : { stage: values.stage }),
    ...(values.stack === undefined ? {} : { stack: values.stack }),
    ...(values['send-queue-url'] === undefined ? {} : { sendQueueUrl: values['send-queue-url'] }),
    ...(values['dead-letter-queue-url'] === undefined
      ? {}
      : { deadLetterQueueUrl: values['dead-letter-queue-url'] }),
  };
}

/** `https://sqs.<region>.amazonaws.com/…` (or the legacy `<region>.queue.amazonaws.com`). */
function regionOfQueueUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return (
    host.match(/^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/)?.[1] ??
    host.match(/^([a-z0-9-]+)\.queue\.amazonaws\.com$/)?.[1]
  );
}

const isLoopback = (url: string) => ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);

async function locateQueues(
  cli: Cli,
): Promise<{ sendQueueUrl: string; deadLetterQueueUrl: string; region?: string }> {
  if (cli.sendQueueUrl !== undefined && cli.deadLetterQueueUrl !== undefined) {
    const region = cli.region ?? regionOfQueueUrl(cli.deadLetterQueueUrl);
    return {
      sendQueueUrl: cli.sendQueueUrl,
      deadLetterQueueUrl: cli.deadLetterQueueUrl,
      ...(region === undefined ? {} : { region }),
    };
  }
  let stack = cli.stack;
  let region = cli.region;
  if (cli.stage !== undefined) {
    const [{ resolveStage }, { default: config }] = await Promise.all([
      import('../infra/config'),
      import('../pushgate.config'),
    ]);
    const stage = resolveStage(config, cli.stage);
    stack = stage.stackName;
    region ??= stage.env?.region;
  }
  if (stack === undefined) throw new UsageError('No stack to read the queues from.');
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs = new Map(
      (Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
    const sendQueueUrl = outputs.get('SendQueueUrl');
    const deadLetterQueueUrl = outputs.get('DeadLetterQueueUrl');
    if (sendQueueUrl === undefined || deadLetterQueueUrl === undefined) {
      throw new Error(
        `The stack ${stack} has no SendQueueUrl and DeadLetterQueueUrl outputs; is it a pushgate stack?`,
      );
    }
    const resolvedRegion = region ?? regionOfQueueUrl(deadLetterQueueUrl);
    return {
      sendQueueUrl,
      deadLetterQueueUrl,
      ...(resolvedRegion === undefined ? {} : { region: resolvedRegion }),
    };
  } finally {
    cloudFormation.destroy();
  }
}

function report(result: RedriveResult): string {
  const lines = [`Dead-letter queue ${result.deadLetterQueueUrl}: ${result.found} job(s).`];
  const groups = Object.entries(result.byReason).sort(([, a], [, b]) => b.count - a.count);
  const width = Math.max(0, ...groups.map(([reason]) => reason.length));
  for (const [reason, group] of groups) {
    lines.push(
      `  ${reason.padEnd(width)}  ${String(group.count).padStart(6)}  e.g. ${group.notificationIds.join(', ') || '—'}`,
    );
    if (group.detail !== undefined) lines.push(`  ${''.padEnd(width)}          ${group.detail}`);
  }
  if (result.dryRun) {
    lines.push('Dry run: nothing was moved. Fix the cause, then run again without --dry-run.');
  } else {
    lines.push(`Moved ${result.moved} job(s) to ${result.sendQueueUrl}.`);
    if (result.failed > 0)
      lines.push(`${result.failed} could not be sent and stay on the dead-letter queue.`);
    if (result.notDeleted > 0) {
      lines.push(
        `${result.notDeleted} were sent but not deleted from the dead-letter queue; a second redrive sends them again (the sender skips what it already delivered).`,
      );
    }
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let cli: Cli | 'help';
  try {
    cli = parseCli(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (cli === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    const queues = await locateQueues(cli);
    const offline = cli.endpointUrl !== undefined && isLoopback(cli.endpointUrl);
    const region = queues.region ?? (offline ? 'us-east-1' : undefined);
    const sqs = new SQSClient({
      // Queue URLs name their host; send every request to the resolved endpoint instead (offline, a
      // fauxqs queue URL names a host that does not resolve).
      useQueueUrlAsEndpoint: false,
      ...(region === undefined ? {} : { region }),
      ...(cli.endpointUrl === undefined ? {} : { endpoint: cli.endpointUrl }),
      // The offline SQS takes any credentials; a developer's machine may have none configured.
      ...(offline && process.env.AWS_ACCESS_KEY_ID === undefined && process.env.AWS_PROFILE === undefined
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
    try {
      const result = await redrive({
        sqs,
        sendQueueUrl: queues.sendQueueUrl,
        deadLetterQueueUrl: queues.deadLetterQueueUrl,
        dryRun: cli.dryRun,
        ...(cli.reasons === undefined ? {} : { reasons: cli.reasons }),
        ...(cli.max === undefined ? {} : { max: cli.max }),
      });
      console.log(cli.json ? JSON.stringify(result, null, 2) : report(result));
      return result.failed > 0 ? 1 : 0;
    } finally {
      sqs.destroy();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(
      `redrive failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
