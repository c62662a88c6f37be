import { type Device, deviceView } from '../domain/device';
import type { Ports } from './ports';

/** Every device of one user, as the API shows them, most recently seen first. */
export async function listDevices({ deviceRegistry }: Pick<Ports, 'deviceRegistry'>, userId: string) {
  const devices: Device[] = await deviceRegistry.listDevices(userId);
  devices.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  return devices.map(deviceView);
}
