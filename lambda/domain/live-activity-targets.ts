/**
 * The targets of a Live Activity send: the key a user's Live Activity tokens are filed
 * under, which a send names and a device carries (`PushDevice.liveActivity.target`).
 * A rule of what is addressed, not of storage: the Devices table indexes tokens by it
 * (`byLiveActivity`), and the sender computes it from a job without asking the store.
 */

/** The target of a user's push-to-start tokens for one attributes type. */
export function pushToStartTarget(appId: string, userId: string, attributesType: string): string {
  return `start|${appId}|${attributesType}|${userId}`;
}

/**
 * The target of one user's activity: the update tokens that user registered under the
 * activity id. The user is part of the key, so a query for one user's activity never
 * lists another user's tokens, whatever id they chose. Neither an app id nor an
 * activity id can hold `|`, so no two (user, activity) pairs share a key.
 */
export function activityTarget(appId: string, userId: string, activityId: string): string {
  return `activity|${appId}|${userId}|${activityId}`;
}
