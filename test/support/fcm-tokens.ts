import { randomBytes } from 'node:crypto';

/**
 * A token shaped like the FCM registration tokens Google issues — `<instance id>:<key>`,
 * mixed case, with `-` and `_` — new on every call; `length` characters when given.
 */
export function newFcmToken(length?: number): string {
  const id = randomBytes(8).toString('base64url').slice(0, 11);
  const token = `${id}:APA91b${randomBytes(length ?? 105).toString('base64url')}`;
  return length === undefined ? token : token.slice(0, length);
}
