import type { Device } from '../../lambda/domain/device';
import type { DevicePlatform } from '../../lambda/domain/device-set';
import { seedDevices as seed } from '../../local/seed-devices';
import { TEST_APP_ID } from './embedded-services';

/** Seeds devices of the test app straight into the table (large-audience set-up). */
export function seedDevices(
  userIds: readonly string[],
  devicesPerUser: number,
  platform: DevicePlatform = 'ios',
  fcmTokenLength?: number,
): Promise<Device[]> {
  return seed(userIds, devicesPerUser, TEST_APP_ID, {}, platform, fcmTokenLength);
}
