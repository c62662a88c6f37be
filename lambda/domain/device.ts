import type { DevicePlatform } from './device-set';
import { DAY_SECONDS, expiresAfter } from './expiry';

/** The environments APNs has; a token is valid in exactly one of them. */
export const APNS_ENVIRONMENTS = ['sandbox', 'production'] as const;
export type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];

export function otherEnvironment(environment: ApnsEnvironment): ApnsEnvironment {
  return environment === 'production' ? 'sandbox' : 'production';
}

/**
 * Where to try a token once more before pruning it: APNs calls a token of the other
 * environment a BadDeviceToken (a debug build registered as production, or the other
 * way round). Tried there once; what it answers there is final.
 */
export function environmentToTryInstead(
  environment: ApnsEnvironment,
  answer: { kind: string; reason?: string },
): ApnsEnvironment | undefined {
  return answer.kind === 'invalid-token' && answer.reason === 'BadDeviceToken'
    ? otherEnvironment(environment)
    : undefined;
}

/**
 * Devices not seen for this long expire through DynamoDB TTL. Apps re-register
 * their token on every launch, so 180 days without one means the app is gone or
 * the user never opens it; APNs would eventually answer 410 anyway.
 */
export const DEVICE_TTL_DAYS = 180;

/**
 * A device of a user: an APNs token registered for one app in one environment, or an
 * FCM registration token (`platform: 'android'`). FCM has a single environment; an
 * Android device is kept as `production`, which nothing reads for it, and the API
 * does not show it.
 */
export interface Device {
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
  locale?: string;
  appVersion?: string;
  /** When this user registered this token (a move to another user starts it again). */
  registeredAt: string;
  /** The last registration or refresh; the 410 rule compares APNs's timestamp with it. */
  lastSeenAt: string;
  /** Epoch seconds after which DynamoDB removes the device. */
  expiresAt: number;
  /** Absent on records written before Android existed: 'ios'. */
  platform?: DevicePlatform;
  /** Moved on by every write that gives the token to a user (domain/device-set.ts `nextRecordVersion`). */
  version?: number;
  /**
   * The user's `setVersion` the registration that wrote this record had read. A deleter
   * that moved the set on past it (an erase, a sign-out of a device outside the set)
   * may delete the record; one written by a registration that read the set after that
   * may not be deleted under it, or its last write would put a token with no record in
   * the set (which the next user to register the token could not take it from).
   */
  setVersionSeen?: number;
}

/** Who holds a token now, for which app and environment: what the sender confirms before each push. */
export type DeviceOwner = Pick<Device, 'token' | 'userId' | 'appId' | 'environment' | 'platform'>;

/**
 * A user's device generation: 0 until the user's devices are first erased ("log out
 * everywhere"), and one more at each erase. It decides for Live Activity tokens only
 * (device tokens are the user's while in the user's device set, which the erase
 * empties): a Live Activity token belongs to its user only while it was written in
 * the user's current generation (docs/decisions/device-generations.md).
 */
export function isCurrentGeneration(
  recordGeneration: number | undefined,
  userGeneration: number | undefined,
): boolean {
  return (recordGeneration ?? 0) >= (userGeneration ?? 0);
}

export interface DeviceRegistration {
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
  /** Absent: 'ios'. */
  platform?: DevicePlatform;
  locale?: string;
  appVersion?: string;
}

/** created: the token is new to this table; moved: another user held it; refreshed: the caller did. */
export type RegistrationResult = 'created' | 'moved' | 'refreshed';

export function deviceExpiry(lastSeenAt: Date): number {
  return expiresAfter(lastSeenAt, DEVICE_TTL_DAYS * DAY_SECONDS);
}

/** What the API shows of a device. */
export function deviceView(device: Device) {
  return {
    token: device.token,
    userId: device.userId,
    appId: device.appId,
    platform: device.platform ?? 'ios',
    ...(device.platform === 'android' ? {} : { environment: device.environment }),
    ...(device.locale === undefined ? {} : { locale: device.locale }),
    ...(device.appVersion === undefined ? {} : { appVersion: device.appVersion }),
    registeredAt: device.registeredAt,
    lastSeenAt: device.lastSeenAt,
    expiresAt: new Date(device.expiresAt * 1000).toISOString(),
  };
}
