import type { ApnsEnvironment } from './device';
import type { DevicePlatform } from './device-set';
import type { LiveActivityTokenKind } from './live-activity';

/**
 * One device a job reaches, as the sender needs it: a device it pushes to, or one a
 * retry or re-push round carries on (confirmed again before it is pushed to).
 */
export interface PushDevice {
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
  /** Absent: 'ios' (so parts queued before Android existed read the same). */
  platform?: DevicePlatform;
  /** A Live Activity token: its kind, and the registration it was found by (push-to-start type or activity). */
  liveActivity?: { kind: LiveActivityTokenKind; target: string };
}

/** Where a device is reached: FCM for an Android one, APNs otherwise. */
export function platformOf(device: Pick<PushDevice, 'platform'>): DevicePlatform {
  return device.platform ?? 'ios';
}

/** The `platform` a PushDevice carries: only Android's is written, iOS is the default. */
export function platformField(platform: DevicePlatform | undefined): Pick<PushDevice, 'platform'> {
  return platform === 'android' ? { platform } : {};
}
