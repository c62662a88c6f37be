import type { Ports } from './ports';

/**
 * Removes one of the caller's devices (sign-out on that device). Someone else's
 * token and an unknown token both end in DeviceNotFound, so existence never leaks.
 */
export async function unregisterDevice(
  { deviceRegistry }: Pick<Ports, 'deviceRegistry'>,
  userId: string,
  token: string,
): Promise<void> {
  await deviceRegistry.deleteDevice(userId, token);
}
