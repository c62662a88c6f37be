import { randomBytes } from 'node:crypto';

/**
 * A token shaped like the FCM registration tokens Google issues — `<instance id>:<key>`,
 * mixed case, with `-` and `_` — new on every call.
 */
export function newFcmToken(): string {
  const id = randomBytes(8).toString('base64url').slice(0, 11);
  return `${id}:APA91b${randomBytes(105).toString('base64url')}`;
}
