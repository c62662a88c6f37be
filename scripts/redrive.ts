import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Cli, parseCli, USAGE } from './redrive/command-line';
import { discardJobs, redriveOnce } from './redrive/index';
import { loadListing, saveListing } from './redrive/listing-file';
import { locateQueues } from './redrive/locate-queues';
import { discardReport, redriveJson, redriveReport } from './redrive/report';
import { UsageError } from './redrive/usage-error';

export type { RedriveResult } from './redrive/index';
export type { RedriveJson } from './redrive/report';

/**
 * `npm run redrive`: the command line over scripts/redrive/ — it reads its options
 * (redrive/command-line.ts), finds the queues, calls one function, prints its report.
 *
 * The sender dead-letters jobs itself, with SendMessage, so they carry no source
 * queue and SQS's own redrive (start-message-move-task) has nowhere to return them.
 */

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
      console.log(cli.json ? JSON.stringify(redriveJson(result), null, 2) : redriveReport(result));
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
