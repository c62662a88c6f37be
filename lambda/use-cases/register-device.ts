import { saveDevice } from '../adapters/secondary/devices-table';
import { findApp } from '../config';
import type { Device, DeviceRegistration, RegistrationOutcome } from '../domain/device';
import { UnknownAppError } from '../domain/errors';

/**
 * Registers an app's device token for the signed-in user.
 *
 * 1. Refuse app ids this deployment does not serve (UnknownApp).
 * 2. Write the device in one atomic step: create it, refresh it (same user: keeps
 *    `registeredAt`, bumps `lastSeenAt` and the TTL), or move it from the user who
 *    held it before.
 */
export async function registerDevice(
  registration: DeviceRegistration,
  now = new Date(),
): Promise<{ device: Device; outcome: RegistrationOutcome }> {
  if (findApp(registration.appId) === undefined) throw new UnknownAppError(registration.appId);
  return saveDevice(registration, now);
}
