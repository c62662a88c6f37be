/**
 * The platforms a device can be on: iOS devices are reached through APNs, Android
 * ones through FCM. A registration without `platform` is an iOS one (the API's
 * behaviour before Android existed).
 */
export const PLATFORMS = ['ios', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const DEFAULT_PLATFORM: Platform = 'ios';
