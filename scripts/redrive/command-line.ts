import { parseArgs } from 'node:util';
import { SEND_QUEUE } from '../../infra/queue-settings';
import { DEFAULT_WAIT_SECONDS } from './index';
import { UsageError } from './usage-error';

/**
 * What `npm run redrive` accepts: its help text and its options, read and checked
 * together (every rule an option has is in the text and in parseCli, side by side).
 * A bad combination is a UsageError, which the command answers with the text. The
 * run itself is scripts/redrive.ts.
 */

export const USAGE = `Usage: npm run redrive -- [where] [options]

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

export interface Cli {
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

export function parseCli(argv: string[]): Cli | 'help' {
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
