import { deleteDevicesOfUser } from '../adapters/secondary/devices-table';

/**
 * Log out everywhere / erase a user's data: removes every device of the user.
 * Idempotent — a user with no devices is already erased.
 */
export async function eraseUserDevices(userId: string): Promise<number> {
  return deleteDevicesOfUser(userId);
}
