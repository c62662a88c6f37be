import { ITEM_KEY_PREFIXES } from '../../domain/fcm-token';
import type { LiveActivityTokenKind } from '../../domain/live-activity';
import { DEVICES_TABLE } from './devices-keys';

/**
 * Keys of Live Activity tokens in the Devices table (docs/decisions/live-activity-tokens.md).
 * The partition key is the token behind a kind prefix, so a Live Activity token never
 * collides with a device token (canonical hex has no `:`; FCM tokens never start
 * with these prefixes: domain/fcm-token.ts) nor with a token of the
 * other kind; the owner is `ownerId`, not `userId`, which keeps these items out of
 * the `byUser` index that device sends read.
 */
const KEY_PREFIX: Record<LiveActivityTokenKind, string> = {
  'push-to-start': ITEM_KEY_PREFIXES.pushToStart,
  update: ITEM_KEY_PREFIXES.activityUpdate,
};

export function liveActivityTokenKey(kind: LiveActivityTokenKind, token: string) {
  return { [DEVICES_TABLE.partitionKey]: `${KEY_PREFIX[kind]}${token}` };
}
