import type { ApnsEnvironment, Device, DeviceRegistration } from '../../domain/device';
import type { DeviceSet, HeldDevice, SavedDevice } from '../../domain/device-set';

/**
 * The devices each user holds (the Devices table: device records, one device set per
 * user, and the generation an erase starts). Reads of sets are strongly consistent:
 * the sender's privacy rule needs the last word before a push leaves.
 */
export interface DeviceRegistry {
  /** Adds or refreshes a device; a set at `maxDevices` lets its least recently seen go. */
  saveDevice(registration: DeviceRegistration, now: Date, maxDevices: number): Promise<SavedDevice>;
  /** Removes one of the user's devices; DeviceNotFound when the user does not hold it. */
  deleteDevice(userId: string, token: string): Promise<void>;
  listDevices(userId: string): Promise<Device[]>;
  /**
   * Empties the user's set as it is now, in one write that also starts a new device
   * generation (nothing registered before counts, Live Activity tokens included);
   * undefined when a device was added meanwhile. The set version that write gave it.
   */
  emptyDeviceSet(userId: string, now: Date): Promise<{ setVersion: number } | undefined>;
  /**
   * Deletes the user's token records, each only while still the user's and written by a
   * registration that read the set before `erasedSetVersion`; how many it deleted.
   */
  deleteRecordsErasedFrom(userId: string, erasedSetVersion: number): Promise<number>;
  heldBy(userId: string, token: string): Promise<HeldDevice | undefined>;
  deviceSetsOf(userIds: readonly string[]): Promise<Map<string, DeviceSet>>;
  holdersOf(tokens: readonly string[]): Promise<Map<string, HeldDevice>>;
  /** Removes a dead token unless it was registered again after `invalidSince`; whether it was removed. */
  pruneDevice(
    device: { token: string; userId: string; appId: string },
    invalidSince?: Date,
  ): Promise<boolean>;
  correctDeviceEnvironment(
    device: Pick<Device, 'token' | 'userId'>,
    environment: ApnsEnvironment,
  ): Promise<void>;
  /** Each user's current device generation (0 for one never erased). */
  userGenerations(userIds: readonly string[]): Promise<Map<string, number>>;
}
