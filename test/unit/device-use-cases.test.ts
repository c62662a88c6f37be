import { beforeEach, describe, expect, it } from 'vitest';
import type { DeviceRegistration } from '../../lambda/domain/device';
import { EraseRacedRegistrationsError, PushgateError } from '../../lambda/domain/errors';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { eraseUserDevices } from '../../lambda/use-cases/erase-user-devices';
import { listDevices } from '../../lambda/use-cases/list-devices';
import { recordReceipt } from '../../lambda/use-cases/record-receipt';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { unregisterDevice } from '../../lambda/use-cases/unregister-device';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * The device use cases on in-memory ports: each rule on its own, no embedded services
 * (the same rules against DynamoDB: test/integration/device-registry.test.ts and the
 * device-set suites).
 */

let ports: InMemoryPorts;
beforeEach(() => {
  ports = inMemoryPorts([FAKE_APP, { appId: 'com.example.ios-only', bundleId: 'com.example.ios-only' }]);
});

const token = (n: number) => n.toString(16).padStart(64, '0');
const registration = (
  n: number,
  userId: string,
  extra: Partial<DeviceRegistration> = {},
): DeviceRegistration => ({
  token: token(n),
  userId,
  appId: FAKE_APP.appId,
  environment: 'production',
  ...extra,
});
const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 10, minute));

/** The code of the PushgateError `run` rejects with. */
async function refusal(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PushgateError);
  return (error as PushgateError).code;
}

describe('registering a device', () => {
  it('a new token is created for the caller; the same caller again refreshes it, keeping registeredAt', async () => {
    const first = await registerDevice(ports, registration(1, 'alice'), at(0));
    expect(first.result).toBe('created');
    const again = await registerDevice(ports, registration(1, 'alice'), at(5));
    expect(again.result).toBe('refreshed');
    expect(again.device.registeredAt).toBe(at(0).toISOString());
    expect(again.device.lastSeenAt).toBe(at(5).toISOString());
    expect((await listDevices(ports, 'alice')).map((d) => d.token)).toEqual([token(1)]);
  });

  it('a token another user holds moves to the caller and leaves the other user’s devices', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    const moved = await registerDevice(ports, registration(1, 'bob'), at(1));
    expect(moved.result).toBe('moved');
    expect(await listDevices(ports, 'alice')).toEqual([]);
    expect((await listDevices(ports, 'bob')).map((d) => d.userId)).toEqual(['bob']);
  });

  it('an app the deployment does not serve, or an Android device of an app without FCM, is refused and nothing is written', async () => {
    expect(
      await refusal(registerDevice(ports, registration(1, 'alice', { appId: 'com.example.other' }))),
    ).toBe('UnknownApp');
    expect(
      await refusal(
        registerDevice(
          ports,
          registration(2, 'alice', {
            appId: 'com.example.ios-only',
            platform: 'android',
            token: 'fcm-token',
          }),
        ),
      ),
    ).toBe('FcmNotConfigured');
    expect(ports.deviceRegistry.records.size).toBe(0);
  });

  it('a set at the cap lets its least recently seen device go for the new one, counted once', async () => {
    ports.settings.maxDevicesPerUser = 2;
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await registerDevice(ports, registration(2, 'alice'), at(1));
    await registerDevice(ports, registration(3, 'alice'), at(2));
    expect((await listDevices(ports, 'alice')).map((d) => d.token)).toEqual([token(3), token(2)]);
    expect(ports.metrics.devicesEvicted).toBe(1);
  });
});

describe('signing a device out', () => {
  it('removes the caller’s own device', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await unregisterDevice(ports, 'alice', token(1));
    expect(await listDevices(ports, 'alice')).toEqual([]);
  });

  it('someone else’s token answers exactly as an unknown one, and stays its holder’s', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    const foreign = await unregisterDevice(ports, 'mallory', token(1)).catch((e: PushgateError) => e);
    const unknown = await unregisterDevice(ports, 'mallory', token(99)).catch((e: PushgateError) => e);
    expect(foreign).toBeInstanceOf(PushgateError);
    expect(unknown).toBeInstanceOf(PushgateError);
    const shape = (e: unknown) => [
      (e as PushgateError).statusCode,
      (e as PushgateError).code,
      (e as Error).message,
    ];
    expect(shape(foreign)).toEqual(shape(unknown));
    expect(shape(foreign)[0]).toBe(404);
    expect((await listDevices(ports, 'alice')).map((d) => d.token)).toEqual([token(1)]);
  });
});

describe('erasing a user’s devices', () => {
  it('removes every device of the user, moves the user’s generation on, and touches nobody else', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await registerDevice(ports, registration(2, 'alice'), at(1));
    await registerDevice(ports, registration(3, 'bob'), at(2));
    expect(await eraseUserDevices(ports, 'alice', at(3))).toBe(2);
    expect(await listDevices(ports, 'alice')).toEqual([]);
    expect((await ports.deviceRegistry.userGenerations(['alice', 'bob'])).get('alice')).toBe(1);
    expect((await listDevices(ports, 'bob')).map((d) => d.token)).toEqual([token(3)]);
  });

  it('retries while registrations race it, and answers 409 with nothing erased when they never stop', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    ports.deviceRegistry.racingRegistrations = 3;
    expect(await eraseUserDevices(ports, 'alice', at(1))).toBe(1);
    await registerDevice(ports, registration(2, 'alice'), at(2));
    ports.deviceRegistry.racingRegistrations = Number.POSITIVE_INFINITY;
    const refused = await eraseUserDevices(ports, 'alice', at(3)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EraseRacedRegistrationsError);
    expect(refused).toMatchObject({ statusCode: 409 });
    expect((await listDevices(ports, 'alice')).map((d) => d.token)).toEqual([token(2)]);
  });

  it('is idempotent: a user already erased has nothing left to erase', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await eraseUserDevices(ports, 'alice', at(1));
    expect(await eraseUserDevices(ports, 'alice', at(2))).toBe(0);
  });
});

describe('recording a receipt', () => {
  const tracked = (to: SendJob['to'], notificationId = 'n-tracked'): SendJob =>
    ({
      notificationId,
      appId: FAKE_APP.appId,
      to,
      aps: { alert: 'hi' },
      track: { receipts: true },
    }) as SendJob;

  it('the caller’s device, for a tracked notification that named the caller: the receipt is kept', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await acceptSendRequest(ports, tracked({ userIds: ['alice'] }));
    await recordReceipt(ports, 'n-tracked', token(1), 'alice', 'opened');
    expect(ports.trackingStore.receipts.get('n-tracked')).toMatchObject([
      { token: token(1), userId: 'alice', openedAt: expect.any(String) },
    ]);
  });

  it('an untracked notification, another user’s device, a user the job did not name, an unknown id: the same ReceiptNotFound', async () => {
    await registerDevice(ports, registration(1, 'alice'), at(0));
    await registerDevice(ports, registration(2, 'carol'), at(0));
    await acceptSendRequest(ports, tracked({ userIds: ['alice'] }));
    await acceptSendRequest(ports, {
      notificationId: 'n-untracked',
      appId: FAKE_APP.appId,
      to: { userIds: ['alice'] },
      aps: { alert: 'hi' },
    } as SendJob);
    const attempts = [
      recordReceipt(ports, 'n-untracked', token(1), 'alice', 'received'),
      recordReceipt(ports, 'n-tracked', token(1), 'mallory', 'received'),
      recordReceipt(ports, 'n-tracked', token(2), 'carol', 'received'),
      recordReceipt(ports, 'n-unknown', token(1), 'alice', 'received'),
    ];
    for (const attempt of attempts) expect(await refusal(attempt)).toBe('ReceiptNotFound');
    expect(ports.trackingStore.receipts.size).toBe(0);
  });
});
