import { listDevices as queryDevices } from '../adapters/secondary/devices-table';
import { type Device, deviceView } from '../domain/device';

/** Every device of one user, as the API shows them, most recently seen first. */
export async function listDevices(userId: string) {
  const devices: Device[] = await queryDevices(userId);
  devices.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  return devices.map(deviceView);
}
