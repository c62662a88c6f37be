/**
 * The dead-letter queue's operations as functions — `npm run redrive` (scripts/redrive.ts)
 * is a thin command line over them, and any other tool calls the same code.
 */
export { type DiscardOptions, type DiscardResult, discardJobs } from './discard';
export { MOVED_BY_SQS } from './messages';
export {
  DEFAULT_WAIT_SECONDS,
  type JobSummary,
  type Queues,
  type ReasonGroup,
  type RedriveOptions,
  type RedriveResult,
  redriveOnce,
} from './redrive-once';
