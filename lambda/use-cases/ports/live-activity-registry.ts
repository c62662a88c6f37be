import type { ApnsEnvironment, RegistrationResult } from '../../domain/device';
import type {
  LiveActivityToken,
  LiveActivityTokenKind,
  LiveActivityTokenRegistration,
  LiveActivityTokenState,
} from '../../domain/live-activity';
import type { PushDevice } from '../../domain/push-device';

/**
 * The Live Activity tokens users registered (push-to-start tokens per attributes type,
 * update tokens per activity), filed under their targets (domain/live-activity-targets.ts).
 */
export interface LiveActivityRegistry {
  saveLiveActivityToken(
    registration: LiveActivityTokenRegistration,
    now: Date,
  ): Promise<{ token: LiveActivityToken; result: RegistrationResult }>;
  /** LiveActivityTokenNotFound when the user does not hold it. */
  deleteLiveActivityToken(
    userId: string,
    kind: LiveActivityTokenKind,
    token: string,
    activityId?: string,
  ): Promise<void>;
  /** As an index lists them: eventually consistent, so each is read again before a push. */
  listPushToStartDevices(appId: string, userId: string, attributesType: string): Promise<PushDevice[]>;
  listActivityDevices(appId: string, userId: string, activityId: string): Promise<PushDevice[]>;
  /** The token's record as it is now (a strongly consistent read); undefined when it is gone. */
  readLiveActivityToken(device: PushDevice): Promise<LiveActivityTokenState | undefined>;
  pruneLiveActivityToken(device: PushDevice, invalidSince?: Date): Promise<boolean>;
  /** After an accepted `end`: the update token reaches nobody, now or from `dismissAt` (ms). */
  endActivityToken(device: PushDevice, dismissAt?: number): Promise<void>;
  correctLiveActivityEnvironment(device: PushDevice, environment: ApnsEnvironment): Promise<void>;
}
