import type { Device, DeviceRegistration, RegistrationResult } from '../domain/device';
import { tokenHash } from '../domain/device-token';
import { FcmNotConfiguredError, UnknownAppError } from '../domain/errors';
import { logger } from '../observability';
import type { Ports } from './ports';

/**
 * Registers an app's device token for the signed-in user.
 *
 * 1. Refuse app ids this deployment does not serve (UnknownApp), and Android
 *    devices of an app without FCM (FcmNotConfigured).
 * 2. Write the device: refresh it (same user: keeps `registeredAt`, bumps
 *    `lastSeenAt` and the TTL — one write), or add it to the user's device set, taking
 *    it out of the set of the user who held it before (DeviceRegistry `saveDevice`).
 * 3. A set already at the cap (`MAX_DEVICES_PER_USER`) lets its least recently seen
 *    device go for the new one: counted (`DevicesEvicted`) and logged.
 */
export async function registerDevice(
  { deviceRegistry, settings, metrics }: Pick<Ports, 'deviceRegistry' | 'settings' | 'metrics'>,
  registration: DeviceRegistration,
  now = new Date(),
): Promise<{ device: Device; result: RegistrationResult }> {
  const app = settings.findApp(registration.appId);
  if (app === undefined) throw new UnknownAppError(registration.appId);
  if (registration.platform === 'android' && app.fcm === undefined) {
    throw new FcmNotConfiguredError(registration.appId);
  }
  const { device, result, evicted } = await deviceRegistry.saveDevice(
    registration,
    now,
    settings.maxDevicesPerUser,
  );
  if (evicted.length > 0) {
    metrics.countDevicesEvicted(evicted.length);
    logger.warn('a device set at its cap let its least recently seen devices go for a new one', {
      limit: settings.maxDevicesPerUser,
      joined: tokenHash(device.token),
      evicted: evicted.map(tokenHash),
    });
  }
  return { device, result };
}
