import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SEND_QUEUE } from '../infra/queue-settings';
import { DEFAULT_WAIT_SECONDS, discardJobs, redriveOnce } from './redrive/index';
import { loadListing, saveListing } from './redrive/listing-file';
import { locateQueues } from './redrive/locate-queues';
import { discardReport, redriveReport } from './redrive/report';
import { UsageError } from './redrive/usage-error';

export type { RedriveResult } from './redrive/index';

/**
 * `npm run redrive`: the command line over scripts/redrive/ — it finds the queues,
 * calls one function, prints its report.
 *
 * The sender dead-letters jobs itself, with SendMessage, so they carry no source
 * queue and SQS's own redrive (start-message-move-task) has nowhere to return them.
 */

const USAGE = `Usage: npm run redrive -- [where] [options]

Moves jobs from pushgate's dead-letter queue back to its send queue, in one pass over
what is there when it starts: each job is sent with its original body and attributes and
deleted from the DLQ only once that send succeeded; then it watches for jobs that fail
again, which stay on the DLQ and are listed. Fix the cause first (the reasons below say
what failed).

Where the queues are, one of:
  --stage <stage>                the stage's stack (<stage>-pushgate) and region, from pushgate.config.ts
  --stack <name>                 a stack's outputs SendQueueUrl and DeadLetterQueueUrl
  --send-queue-url <url> --dead-letter-queue-url <url>
                                 the queues themselves (offline: GET /_local/queues)

Options:
  --dry-run              list the jobs by pushgate-failure-reason; change nothing. The listing
                         is kept an hour on this machine for --discard
  --reason <reason>      only jobs with this reason (repeatable); MaxReceiveCountExceeded
                         names jobs SQS moved after ${SEND_QUEUE.maxReceiveCount} failed receives
  --max <n>              move at most n jobs
  --wait <seconds>       after moving, watch this long for jobs that fail again (default
                         ${DEFAULT_WAIT_SECONDS}; ends sooner once the send queue is idle; 0: do not watch)
  --discard              delete, for good, the jobs of the given --reason that the last
                         --dry-run listed (jobs that can never succeed); needs --yes
  --yes                  confirm --discard
  --region <region>      the AWS region (default: the stage's, the queue URL's, or the SDK's)
  --endpoint-url <url>   an SQS endpoint other than AWS's, e.g. the offline one of npm start
  --json                 print the result as JSON (exit 1 if jobs failed again, 130 if stopped)
  -h, --help             this text (needs no credentials)

Ctrl-C stops a pass: the batch under way is finished, nothing more is moved, and every job
the pass holds is made visible on the dead-letter queue again (a second Ctrl-C quits at once).

Examples:
  npm run redrive -- --stage prod --dry-run
  npm run redrive -- --stage prod --reason CredentialsUnavailable
  npm run redrive -- --stage prod --discard --reason InvalidJob --yes
  # offline: all three values from GET /_local/queues of npm start
  npm run redrive -- --endpoint-url <endpoint> \\
    --send-queue-url <sendQueueUrl> --dead-letter-queue-url <deadLetterQueueUrl>`;

// ---- command line ----

interface Cli {
  dryRun: boolean;
  discard: boolean;
  json: boolean;
  wait?: number;
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
      discard: { type: 'boolean' },
      yes: { type: 'boolean' },
      wait: { type: 'string' },
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
  if (values.discard) {
    if (values['dry-run'])
      throw new UsageError('--discard and --dry-run are two steps: list first, then discard.');
    if (values.reason === undefined) {
      throw new UsageError('--discard needs --reason: name the reasons of the jobs that can never succeed.');
    }
    if (!values.yes) throw new UsageError('--discard deletes jobs for good: add --yes to confirm.');
    if (values.max !== undefined || values.wait !== undefined) {
      throw new UsageError('--discard takes no --max or --wait: it removes what the dry run listed.');
    }
  }
  let wait: number | undefined;
  if (values.wait !== undefined) {
    wait = Number(values.wait);
    if (!Number.isInteger(wait) || wait < 0 || wait > 900) {
      throw new UsageError('--wait takes whole seconds from 0 to 900.');
    }
  }
  let max: number | undefined;
  if (values.max !== undefined) {
    max = Number(values.max);
    if (!Number.isInteger(max) || max < 1) throw new UsageError('--max takes a whole number of at least 1.');
  }
  return {
    dryRun: values['dry-run'] ?? false,
    discard: values.discard ?? false,
    json: values.json ?? false,
    ...(wait === undefined ? {} : { wait }),
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

/** The shell's code for a command ended by Ctrl-C. */
const INTERRUPTED_EXIT = 130;

/**
 * Ctrl-C (or SIGTERM) asks the pass to stop rather than killing it: killed, it would leave
 * every job it holds hidden on the DLQ for 15 minutes (a dry run right after would find
 * them missing), and could stop between sending a batch and deleting it. A second Ctrl-C
 * quits at once.
 */
function interruptions(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      console.error('Stopped: jobs still held become visible on the dead-letter queue within 15 minutes.');
      process.exit(INTERRUPTED_EXIT);
    }
    console.error(
      `${name}: finishing the batch under way and releasing the jobs held (again to quit at once).`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

const isLoopback = (url: string) => ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);

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
    const stop = interruptions();
    try {
      if (cli.discard) {
        const listing = loadListing(queues.deadLetterQueueUrl);
        if ('refused' in listing) {
          console.error(listing.refused);
          return 2;
        }
        const reasons = cli.reasons ?? new Set<string>();
        if (!listing.jobs.some((job) => reasons.has(job.reason))) {
          // A mistyped reason would otherwise answer "Discarded 0 job(s)" as if all was well.
          const counts = new Map<string, number>();
          for (const job of listing.jobs) counts.set(job.reason, (counts.get(job.reason) ?? 0) + 1);
          const listed = [...counts].map(([reason, count]) => `${reason} ${count}`).join(', ') || 'nothing';
          console.error(
            `The last dry run listed no job of reason ${[...reasons].join(', ')}; it listed: ${listed}. Nothing was discarded.`,
          );
          return 2;
        }
        const result = await discardJobs({
          sqs,
          deadLetterQueueUrl: queues.deadLetterQueueUrl,
          listed: listing.jobs,
          reasons,
          signal: stop.signal,
        });
        console.log(cli.json ? JSON.stringify(result, null, 2) : discardReport(result));
        return result.interrupted ? INTERRUPTED_EXIT : 0;
      }
      const result = await redriveOnce({
        sqs,
        queues,
        dryRun: cli.dryRun,
        ...(cli.reasons === undefined ? {} : { reasons: cli.reasons }),
        ...(cli.max === undefined ? {} : { max: cli.max }),
        ...(cli.wait === undefined ? {} : { waitSeconds: cli.wait }),
        signal: stop.signal,
        onMoved: (moved, waitSeconds) => {
          if (moved > 0 && waitSeconds > 0 && !stop.signal.aborted) {
            console.error(
              `Moved ${moved} job(s); watching up to ${waitSeconds} s for jobs that fail again (Ctrl-C stops the watch).`,
            );
          }
        },
      });
      if (cli.dryRun && !result.interrupted) {
        saveListing({
          deadLetterQueueUrl: queues.deadLetterQueueUrl,
          listedAt: new Date().toISOString(),
          jobs: result.listed.map(({ messageId, reason, notificationId }) => ({
            messageId,
            reason,
            ...(notificationId === undefined ? {} : { notificationId }),
          })),
        });
      }
      console.log(cli.json ? JSON.stringify(result, null, 2) : redriveReport(result));
      if (result.interrupted) return INTERRUPTED_EXIT;
      return result.failed > 0 || result.failedAgain.length > 0 ? 1 : 0;
    } finally {
      stop.dispose();
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
