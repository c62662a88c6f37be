import type { RegistrationResult } from '../domain/device';
import { UnknownAppError } from '../domain/errors';
import type {
  LiveActivityToken,
  LiveActivityTokenKind,
  LiveActivityTokenRegistration,
} from '../domain/live-activity';
import type { Ports } from './ports';

/**
 * Registers a Live Activity token (push-to-start or update) for the signed-in user.
 *
 * 1. Refuse app ids this deployment does not serve (UnknownApp).
 * 2. Write the token in one atomic step: create it, refresh it (same user: keeps
 *    `registeredAt`, bumps `lastSeenAt` and the TTL, and points it at the
 *    attributes type or activity given now), or move it from the user who held it —
 *    which takes it out of that user's activities in the same write.
 */
export async function registerLiveActivityToken(
  { liveActivities, settings }: Pick<Ports, 'liveActivities' | 'settings'>,
  registration: LiveActivityTokenRegistration,
  now = new Date(),
): Promise<{ token: LiveActivityToken; result: RegistrationResult }> {
  if (settings.findApp(registration.appId) === undefined) throw new UnknownAppError(registration.appId);
  return liveActivities.saveLiveActivityToken(registration, now);
}

/**
 * Removes one of the caller's Live Activity tokens. Someone else's token and an
 * unknown token both end in LiveActivityTokenNotFound, so existence never leaks.
 */
export async function unregisterLiveActivityToken(
  { liveActivities }: Pick<Ports, 'liveActivities'>,
  userId: string,
  kind: LiveActivityTokenKind,
  token: string,
  activityId?: string,
): Promise<void> {
  await liveActivities.deleteLiveActivityToken(userId, kind, token, activityId);
}
