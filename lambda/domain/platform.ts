import type { ApnsEnvironment } from './device';
import { InvalidRequestError } from './errors';

/**
 * The platforms a device can be on: iOS devices are reached through APNs, Android
 * ones through FCM. A registration without `platform` is an iOS one (the API's
 * behaviour before Android existed).
 */
export const PLATFORMS = ['ios', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const DEFAULT_PLATFORM: Platform = 'ios';

/** The environment an Android device is kept with: FCM has one, and nothing reads it for FCM. */
const FCM_ENVIRONMENT: ApnsEnvironment = 'production';

/**
 * Where a registration's device is reached: an iOS device needs its APNs environment
 * (a debug build's token is a sandbox one); an Android device has none to give, and a
 * registration that names one is refused rather than half-read (EnvironmentNotForAndroid).
 */
export function registrationPlatform(body: { platform?: Platform; environment?: ApnsEnvironment }): {
  platform: Platform;
  environment: ApnsEnvironment;
} {
  const platform = body.platform ?? DEFAULT_PLATFORM;
  if (platform === 'android') {
    if (body.environment !== undefined) {
      throw new InvalidRequestError(
        '"environment": Android devices have no APNs environment; leave "environment" out when "platform" is "android".',
        'EnvironmentNotForAndroid',
      );
    }
    return { platform, environment: FCM_ENVIRONMENT };
  }
  if (body.environment === undefined) {
    throw new InvalidRequestError('"environment": The environment is "sandbox" or "production".');
  }
  return { platform, environment: body.environment };
}
