import { DeliveryTally } from '../../lambda/domain/delivery-tally';
import type { JobPart } from '../../lambda/domain/job-part';
import { deliverNotification } from '../../lambda/use-cases/deliver-notification';
import { LeanInvocation } from '../../lambda/use-cases/delivery/lean';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { FAKE_APP, type InMemoryPorts } from './in-memory-ports';

/**
 * What the use-case unit tests do as the sender's handler would, on the in-memory
 * ports: take the next message off the fake send queue and deliver it in an
 * invocation of its own, with a minute left.
 */
export async function deliverNextPart(ports: InMemoryPorts): Promise<DeliveryTally> {
  const message = ports.sendQueue.sent.shift();
  if (message === undefined) throw new Error('nothing on the send queue');
  const tally = new DeliveryTally();
  await deliverNotification(
    ports,
    JSON.parse(message.body) as JobPart,
    tally,
    () => 60_000,
    new LeanInvocation(),
  );
  return tally;
}

/** Registers a production iPhone of `userId` with the fake app. */
export async function registerIphone(ports: InMemoryPorts, userId: string, token: string): Promise<void> {
  await registerDevice(ports, { token, userId, appId: FAKE_APP.appId, environment: 'production' });
}
