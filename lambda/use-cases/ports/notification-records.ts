import type { LeanPlan } from '../../domain/lean-job';
import type {
  ChunkClaim,
  ChunkRecord,
  LeanClaim,
  LeanClaimExpectation,
  PartProgress,
  SendRequestRecord,
} from '../../domain/notification-records';
import type { DeadLetteredPart } from '../../domain/send-status';

/**
 * The Notifications table's records of a send: the request record (taking the id, a
 * lean job's claim), the chunks' claims and completions, the parts the sender issued
 * and the parts it dead-lettered. Writes that must not clobber are conditional.
 */
export interface NotificationRecords {
  /** One conditional write: the id was free and now holds `record`, or the record already there. */
  takeNotificationId(
    record: SendRequestRecord,
    now: Date,
  ): Promise<{ taken: true } | { taken: false; existing: SendRequestRecord }>;
  findSendRequest(notificationId: string, consistent?: boolean): Promise<SendRequestRecord | undefined>;
  markRequestEnqueued(
    notificationId: string,
    published?: { part: string; partKeys: string[] },
  ): Promise<void>;
  partProgress(
    notificationId: string,
    part: string,
    attempt: number,
    chunks: number,
    carriesDevices?: boolean,
  ): Promise<PartProgress>;
  recordIssuedParts(
    notificationId: string,
    parts: readonly { part: string; attempt: number; fingerprint: string }[],
  ): Promise<void>;
  claimChunk(
    notificationId: string,
    part: string,
    attempt: number,
    chunk: number,
    leaseMs: number,
  ): Promise<ChunkClaim>;
  releaseChunk(notificationId: string, part: string, attempt: number, chunk: number): Promise<void>;
  markChunkCompleted(
    notificationId: string,
    part: string,
    attempt: number,
    chunk: number,
    record: ChunkRecord,
  ): Promise<void>;
  isChunkCompleted(notificationId: string, part: string, attempt: number, chunk: number): Promise<boolean>;
  /** False when the record is not what `expected` says: read it to find out why. */
  claimLeanRequest(
    notificationId: string,
    claim: LeanClaim,
    expected: LeanClaimExpectation,
  ): Promise<boolean>;
  releaseLeanClaim(notificationId: string, invocationId: string): Promise<void>;
  recordLeanJobsDone(
    invocationId: string,
    jobs: readonly { notificationId: string; plan: LeanPlan }[],
  ): Promise<void>;
  /** The lean jobs an invocation recorded done, with who each reached when kept. */
  leanJobsDone(invocationId: string, consistent?: boolean): Promise<Map<string, LeanPlan | undefined>>;
  recordDeadLetteredPart(notificationId: string, part: DeadLetteredPart): Promise<void>;
}
