import { randomBytes } from 'node:crypto';
import { MAX_FCM_TOKEN_LENGTH } from '../../lambda/domain/fcm-token';
import { api } from './api';
import { TEST_APP_ID } from './embedded-services';

/**
 * A token shaped like the FCM registration tokens Google issues — `<instance id>:<key>`,
 * mixed case, with `-` and `_` — new on every call; `length` characters when given.
 */
export function newFcmToken(length?: number): string {
  const id = randomBytes(8).toString('base64url').slice(0, 11);
  const token = `${id}:APA91b${randomBytes(length ?? 105).toString('base64url')}`;
  return length === undefined ? token : token.slice(0, length);
}

/** The registration body of an Android device of the test app. */
const ANDROID_REGISTRATION = { appId: TEST_APP_ID, platform: 'android' };

/** An FCM token of the most characters the contract allows. */
export const longFcmToken = () => newFcmToken(MAX_FCM_TOKEN_LENGTH);

/** `PUT /v1/devices/{token}` as `as`, for an Android device of the test app. */
export const registerAndroidToken = (token: string, as: string) =>
  api('PUT', `/v1/devices/${token}`, { as, body: ANDROID_REGISTRATION });

/** The tokens `GET /v1/devices` lists for `as`. */
export const listedTokens = async (as: string) =>
  ((await api('GET', '/v1/devices', { as })).body.devices as { token: string }[]).map(
    (device) => device.token,
  );
