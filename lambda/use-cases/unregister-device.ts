import { deleteDevice } from '../adapters/secondary/devices-table';

/**
 * Removes one of the caller's devices (sign-out on that device). Someone else's
 * token and an unknown token both end in DeviceNotFound, so existence never leaks.
 */
export async function unregisterDevice(userId: string, token: string): Promise<void> {
  await deleteDevice(userId, token);
}
