import * as z from 'zod/mini';
import { discardJobs, redriveOnce } from '../scripts/redrive/index';
import { onDeadLetterQueue } from './dead-letters';
import type { LocalStack } from './stack';

/** `POST /_local/dead-letters/redrive`: every job of a reason (or all), as `npm run redrive -- --reason`. */
export const REDRIVE_PATH = '/_local/dead-letters/redrive';
/** `POST /_local/dead-letters/discard`: one job, as `npm run redrive -- --discard` with its listing. */
export const DISCARD_PATH = '/_local/dead-letters/discard';

const reasonSchema = z.string().check(z.minLength(1), z.maxLength(256));
const redriveBody = z.strictObject({ reason: z.optional(reasonSchema) });
const discardBody = z.strictObject({
  messageId: z.string().check(z.minLength(1), z.maxLength(256)),
  reason: reasonSchema,
});

export type ActionAnswer = { status: number; body: unknown };

/**
 * The dashboard's redrive and discard buttons, through the same functions as
 * `npm run redrive` (scripts/redrive): a redrive moves the jobs of one reason (or
 * every job) back to the send queue without watching them fail again (the panel shows
 * it); a discard deletes exactly the job the dashboard listed, by message id and reason.
 */
export async function deadLetterAction(stack: LocalStack, path: string, body: string): Promise<ActionAnswer> {
  let input: unknown;
  try {
    input = JSON.parse(body || '{}');
  } catch {
    return refused('The request body is not valid JSON.');
  }
  const queues = {
    sendQueueUrl: stack.queues.sendQueueUrl,
    deadLetterQueueUrl: stack.queues.deadLetterQueueUrl,
  };
  if (path === REDRIVE_PATH) {
    const parsed = redriveBody.safeParse(input);
    if (!parsed.success)
      return refused('Send {"reason": "<reason>"} to redrive the jobs of one reason, or {} for all.');
    const { reason } = parsed.data;
    const result = await onDeadLetterQueue(() =>
      redriveOnce({
        sqs: stack.sqs,
        queues,
        waitSeconds: 0,
        ...(reason === undefined ? {} : { reasons: new Set([reason]) }),
      }),
    );
    return { status: 200, body: { found: result.found, moved: result.moved, failed: result.failed } };
  }
  const parsed = discardBody.safeParse(input);
  if (!parsed.success) return refused('Send {"messageId": "<id>", "reason": "<reason>"} of a listed job.');
  const { messageId, reason } = parsed.data;
  const result = await onDeadLetterQueue(() =>
    discardJobs({
      sqs: stack.sqs,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      listed: [{ messageId, reason }],
      reasons: new Set([reason]),
    }),
  );
  return { status: 200, body: { discarded: result.discarded.length, gone: result.gone } };
}

function refused(message: string): ActionAnswer {
  return { status: 400, body: { error: { code: 'InvalidRequest', message } } };
}
