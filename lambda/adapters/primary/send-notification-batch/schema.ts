import * as z from 'zod/mini';
import { sendJobSchema } from '../../../domain/send-job';

/** Jobs in one `POST /v1/notification-batches`: 500 one-user jobs are ~250 KB, well under the body limit. */
export const MAX_JOBS_PER_BATCH = 500;

const jobsCheck = [
  z.minLength(1, 'A batch names at least one notification.'),
  z.maxLength(
    MAX_JOBS_PER_BATCH,
    `A batch holds at most ${MAX_JOBS_PER_BATCH} notifications; split it over several requests.`,
  ),
] as const;

/**
 * The batch as the handler reads it first: an object with a list of 1 to 500
 * values. Each value is then validated as a send job on its own, so one bad job is
 * refused in its result and the others go on.
 */
export const notificationBatchEnvelope = z.strictObject({
  notifications: z.array(z.unknown()).check(...jobsCheck),
});

/** Body of `POST /v1/notification-batches`, as published: the envelope with send jobs in it. */
export const notificationBatchBody = z.strictObject({
  notifications: z.array(sendJobSchema).check(...jobsCheck),
});
