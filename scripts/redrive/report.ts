import type { DiscardResult } from './discard';
import type { JobSummary, RedriveResult } from './redrive-once';

/** What `npm run redrive` prints for a person; `--json` prints the results themselves. */

/**
 * A pass as `--json` prints it. `settled` is `drained`'s first name: scripts written
 * against it still read it until the next major release.
 */
export type RedriveJson = RedriveResult & { settled: boolean };

export function redriveJson(result: RedriveResult): RedriveJson {
  return { ...result, settled: result.drained };
}

export function redriveReport(result: RedriveResult): string {
  const lines = [`Dead-letter queue ${result.deadLetterQueueUrl}: ${result.found} job(s).`];
  const groups = Object.entries(result.byReason).sort(([, a], [, b]) => b.count - a.count);
  const width = Math.max(0, ...groups.map(([reason]) => reason.length));
  for (const [reason, group] of groups) {
    lines.push(
      `  ${reason.padEnd(width)}  ${String(group.count).padStart(6)}  e.g. ${group.notificationIds.join(', ') || '—'}`,
    );
    if (group.detail !== undefined) lines.push(`  ${''.padEnd(width)}          ${group.detail}`);
  }
  if (result.interrupted) {
    lines.push(
      'Interrupted: no further job was moved, and every job the pass held is visible on the dead-letter queue again.',
    );
  }
  if (result.dryRun) {
    lines.push(
      'Dry run: nothing was moved. Fix the cause, then run again without --dry-run; or discard what can never succeed with --discard --reason <reason> --yes.',
    );
    return lines.join('\n');
  }
  lines.push(`Moved ${result.moved} job(s) to ${result.sendQueueUrl}.`);
  if (result.failed > 0) lines.push(`${result.failed} could not be sent and stay on the dead-letter queue.`);
  if (result.notDeleted > 0) {
    lines.push(
      `${result.notDeleted} were sent but not deleted from the dead-letter queue; a second redrive sends them again (the sender skips what it already delivered).`,
    );
  }
  if (result.failedAgain.length > 0) {
    lines.push(`${result.failedAgain.length} failed again and are back on the dead-letter queue:`);
    lines.push(...result.failedAgain.map(jobLine));
    lines.push('Fix their cause and redrive again, or discard them (--dry-run, then --discard).');
  }
  if (result.moved > 0 && result.notSeenBack > 0) {
    lines.push(
      result.drained
        ? `${result.notSeenBack} did not come back: the send queue has nothing left, so they were delivered.`
        : `${result.notSeenBack} not seen back yet (still being sent, or delayed retries): the DeadLetters alarm tells if any fails later.`,
    );
  }
  return lines.join('\n');
}

export function discardReport(result: DiscardResult): string {
  if (result.interrupted) {
    return `Interrupted before anything was deleted: ${result.deadLetterQueueUrl} is as it was.`;
  }
  const lines = [
    `Discarded ${result.discarded.length} job(s) from ${result.deadLetterQueueUrl}:`,
    ...result.discarded.map(jobLine),
  ];
  if (result.gone > 0) lines.push(`${result.gone} listed job(s) were no longer there.`);
  if (result.keptUnlisted > 0) {
    lines.push(
      `${result.keptUnlisted} job(s) of those reasons arrived after the dry run and were kept: list them with --dry-run first.`,
    );
  }
  return lines.join('\n');
}

function jobLine(job: JobSummary): string {
  return `  ${job.reason}  ${job.notificationId ?? '(no notification id)'}${job.detail === undefined ? '' : `  ${job.detail}`}`;
}
