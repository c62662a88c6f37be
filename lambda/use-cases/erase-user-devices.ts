import { EraseRacedRegistrationsError } from '../domain/errors';
import { contentionPauseMs } from '../domain/retry-policy';
import type { Ports } from './ports';

/** The erase, racing its user's registrations, tries this many times. */
const ERASE_ATTEMPTS = 12;

/**
 * Log out everywhere / erase a user's data: from this call on no device the user
 * registered before counts as theirs — not for sends, retries, re-pushes, receipts
 * or lists — and every such record the table lists is deleted. Idempotent — a user
 * with no devices is already erased.
 *
 * 1. Every device leaves the user's set in one write, which also moves the user's
 *    device generation on (taking the Live Activity tokens): from that write on
 *    nothing the user held before is theirs. A registration that added a device
 *    between the read and the write refuses it: read again and retry, with a growing
 *    pause, ERASE_ATTEMPTS times; still refused — EraseRacedRegistrations (409),
 *    nothing erased, the caller may simply repeat.
 * 2. The user's token records are deleted, each only while still the user's at the
 *    version it had; one written by a registration that read the set after the erase's
 *    write is that registration's (its set write will succeed) and stays. A record the
 *    index missed stays, inert — in no set — until the token is registered again or
 *    expires. Returns how many records were deleted.
 */
export async function eraseUserDevices(
  { deviceRegistry }: Pick<Ports, 'deviceRegistry'>,
  userId: string,
  now = new Date(),
): Promise<number> {
  let erased: { setVersion: number } | undefined;
  for (let attempt = 0; attempt < ERASE_ATTEMPTS && erased === undefined; attempt++) {
    await pause(contentionPauseMs(attempt));
    erased = await deviceRegistry.emptyDeviceSet(userId, now);
  }
  if (erased === undefined) throw new EraseRacedRegistrationsError();
  return deviceRegistry.deleteRecordsErasedFrom(userId, erased.setVersion);
}

function pause(ms: number): Promise<void> {
  return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
