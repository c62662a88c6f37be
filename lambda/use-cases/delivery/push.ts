import {
  classifyApnsAnswer,
  fatalAnswer,
  type PushAnswer,
  type RawApnsAnswer,
  retryAtOnce,
} from '../../domain/apns-answer';
import { mapConcurrent } from '../../domain/concurrency';
import { type ApnsEnvironment, environmentToTryInstead } from '../../domain/device';
import { JobFailedError } from '../../domain/errors';
import type { PushDevice } from '../../domain/push-device';
import type { PushConnection } from '../ports/push-providers';
import type { Delivery } from './plan';

/**
 * The longest chain of APNs request timeouts one chunk can wait through: the first
 * send, its immediate retry (ExpiredProviderToken), then the other environment
 * (both environments at once) with its own immediate retry.
 */
export const APNS_TIMEOUTS_PER_CHUNK = 4;

/** Parallel DynamoDB writes when correcting environments. */
const WRITE_CONCURRENCY = 16;

/**
 * Step 3, send: the request to every device over the warm session of its
 * environment; one answer per device, in device order, classified.
 * - ExpiredProviderToken is sent again at once (the gateway has dropped the refused
 *   token); once only.
 * - A BadDeviceToken is tried once in the other environment: accepted there, the
 *   device's environment is corrected; no answer there, it is retried later.
 * - A credential or request error stops the job (JobFailedError): nothing of these
 *   devices is settled; pushByPlatform dead-letters them — the whole job when no other
 *   platform or environment of the chunk was pushed to, else these devices alone.
 */
export async function pushToDevices(delivery: Delivery, devices: PushDevice[]): Promise<PushAnswer[]> {
  const classified = new Array<PushAnswer>(devices.length);
  const byEnvironment = new Map<ApnsEnvironment, number[]>();
  devices.forEach((device, index) => {
    const list = byEnvironment.get(device.environment) ?? [];
    list.push(index);
    byEnvironment.set(device.environment, list);
  });
  await mapConcurrent([...byEnvironment], 2, async ([environment, indexes]) => {
    const answers = await send(
      delivery,
      environment,
      indexes.map((i) => devices[i] as PushDevice),
    );
    indexes.forEach((deviceIndex, j) => {
      classified[deviceIndex] = classifyApnsAnswer(answers[j] as RawApnsAnswer);
    });
  });
  await tryOtherEnvironment(delivery, devices, classified);
  const fatal = fatalAnswer(classified);
  if (fatal !== undefined) {
    throw new JobFailedError(
      fatal.reason,
      `APNs answered ${fatal.status} ${fatal.reason}; the job stops here.`,
    );
  }
  return classified;
}

/** Sends to devices of one environment, with the one immediate retry some answers deserve. */
async function send(
  delivery: Delivery,
  environment: ApnsEnvironment,
  devices: PushDevice[],
): Promise<RawApnsAnswer[]> {
  const connection = await connectionFor(delivery, environment);
  const tokens = devices.map((device) => device.token);
  const answers = await connection.sendAll(delivery.request, tokens);
  const again = answers.flatMap((answer, i) => (retryAtOnce(answer) ? [i] : []));
  if (again.length > 0) {
    const second = await connection.sendAll(
      delivery.request,
      again.map((i) => tokens[i] as string),
    );
    again.forEach((i, j) => {
      answers[i] = second[j] as RawApnsAnswer;
    });
  }
  return answers;
}

async function tryOtherEnvironment(
  delivery: Delivery,
  devices: PushDevice[],
  classified: PushAnswer[],
): Promise<void> {
  const elsewhere = new Map<ApnsEnvironment, number[]>();
  classified.forEach((answer, i) => {
    const other = environmentToTryInstead((devices[i] as PushDevice).environment, answer);
    if (other === undefined) return;
    const list = elsewhere.get(other) ?? [];
    list.push(i);
    elsewhere.set(other, list);
  });
  await mapConcurrent([...elsewhere], 2, async ([environment, indexes]) => {
    const answers = await send(
      delivery,
      environment,
      indexes.map((i) => devices[i] as PushDevice),
    );
    await mapConcurrent(indexes, WRITE_CONCURRENCY, async (deviceIndex, j) => {
      const there = classifyApnsAnswer(answers[j] as RawApnsAnswer);
      const device = devices[deviceIndex] as PushDevice;
      if (there.kind === 'accepted') {
        const { liveActivities, deviceRegistry } = delivery.ports;
        if (device.liveActivity) await liveActivities.correctLiveActivityEnvironment(device, environment);
        else await deviceRegistry.correctDeviceEnvironment(device, environment);
        device.environment = environment;
        classified[deviceIndex] = there;
      } else if (there.kind === 'retryable') {
        // No answer about the token there: it may yet be valid, so nothing is pruned now.
        classified[deviceIndex] = there;
      }
    });
  });
}

async function connectionFor(
  delivery: Delivery,
  environment: ApnsEnvironment,
): Promise<PushConnection<RawApnsAnswer>> {
  try {
    return await delivery.ports.pushProviders.apns(delivery.app, environment);
  } catch (error) {
    throw new JobFailedError('CredentialsUnavailable', (error as Error).message);
  }
}
