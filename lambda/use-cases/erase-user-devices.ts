import type { Ports } from './ports';

/**
 * Log out everywhere / erase a user's data: from this call on no device the user
 * registered before counts as theirs — not for sends, retries, re-pushes, receipts
 * or lists — and every such record the table lists is deleted. Idempotent — a user
 * with no devices is already erased.
 */
export async function eraseUserDevices(
  { deviceRegistry }: Pick<Ports, 'deviceRegistry'>,
  userId: string,
  now = new Date(),
): Promise<number> {
  return deviceRegistry.deleteDevicesOfUser(userId, now);
}
