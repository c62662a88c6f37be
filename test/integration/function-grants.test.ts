import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiRoute } from '../../infra/api-routes';
import { type FunctionAccess, SENDER_ACCESS } from '../../infra/function-access';
import { dynamo } from '../../lambda/clients';
import { ENVIRONMENT } from '../../lambda/environment';
import { type AccessDeniedException, takeDenials } from '../../local/function-grants';
import { SqsEventSource } from '../../local/sqs-event-source';
import { api, newUser } from '../support/api';
import { alertJob, registerDevices, sendQueueUrl, sqs } from '../support/sender-harness';

/**
 * Offline mode holds each invocation to its function's deployed grants: these run
 * real handlers, through the same local dispatch and SQS event source as every other
 * test, with one grant taken away — and get what AWS would answer.
 */

const refusals = () =>
  takeDenials().map(({ functionName, permission }: AccessDeniedException) => ({
    functionName,
    ...permission,
  }));
const devicesTable = () => process.env[ENVIRONMENT.devicesTable] ?? '';
const tableArn = (table: string, index?: string) =>
  `arn:aws:dynamodb:us-east-1:000000000000:table/${table}${index === undefined ? '' : `/index/${index}`}`;

afterAll(async () => {
  // The send requests below left jobs on the send queue; no sender runs in this file.
  await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
});

describe('a route invoked offline', () => {
  const withDevices = (devices: ApiRoute['devices']) => (route: ApiRoute) => ({ ...route, devices });

  it('without its BatchGetItem grant is refused the read of the device records, as on AWS: the caller gets a 500', async () => {
    const alice = newUser('alice');
    const [token] = await registerDevices(alice, 1);
    const answer = await api('GET', '/v1/devices', {
      as: alice,
      route: withDevices({ table: ['dynamodb:GetItem'] }),
    });
    expect(answer.status).toBe(500);
    expect(answer.body.error.code).toBe('InternalError');
    expect(refusals()).toEqual([
      {
        functionName: 'pushgate-list-my-devices',
        action: 'dynamodb:BatchGetItem',
        resource: tableArn(devicesTable()),
      },
    ]);
    // As deployed, the same call lists the device.
    const deployed = await api('GET', '/v1/devices', { as: alice });
    expect(deployed.status).toBe(200);
    expect(deployed.body.devices.map((device: { token: string }) => device.token)).toEqual([token]);
    expect(refusals()).toEqual([]);
  });

  it('an index query needs the grant on the index: Query granted on the table does not do', async () => {
    const bob = newUser('bob');
    await registerDevices(bob, 1);
    const onTableOnly = withDevices({
      table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
    });
    const answer = await api('DELETE', `/v1/users/${bob}/devices`, { backend: true, route: onTableOnly });
    expect(answer.status).toBe(500);
    expect(refusals()).toEqual([
      {
        functionName: 'pushgate-erase-user-devices',
        action: 'dynamodb:Query',
        resource: tableArn(devicesTable(), 'byUser'),
      },
    ]);
  });

  it('record-receipt without its Devices grant (as it once was deployed) is refused the BatchGetItem', async () => {
    const kim = newUser('kim');
    const [token] = await registerDevices(kim, 1);
    const notificationId = `grants-${kim}`;
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [kim] }, { notificationId, track: { receipts: true } }),
    });
    expect(sent.status).toBe(202);
    const receipt = { token, event: 'received' };
    const url = `/v1/notifications/${notificationId}/receipts`;
    const refused = await api('POST', url, { as: kim, body: receipt, route: withDevices({}) });
    expect(refused.status).toBe(500);
    expect(refusals()).toEqual([
      {
        functionName: 'pushgate-record-receipt',
        action: 'dynamodb:BatchGetItem',
        resource: tableArn(devicesTable()),
      },
    ]);
    const deployed = await api('POST', url, { as: kim, body: receipt });
    expect(deployed.status).toBe(204);
  });

  it('checks nothing the test itself does outside an invocation, on the very clients the functions use', async () => {
    const carol = newUser('carol');
    const [token] = await registerDevices(carol, 1);
    // No function may Get from the Devices table as the test does here; the test is no function.
    const { Item } = await dynamo.send(new GetCommand({ TableName: devicesTable(), Key: { token } }));
    expect(Item?.userId).toBe(carol);
    expect(refusals()).toEqual([]);
  });
});

describe('the sender invoked offline by the SQS event source', () => {
  it('without its BatchGetItem grant on the Devices table is refused the read of the device sets of a job to users', async () => {
    const dana = newUser('dana');
    await registerDevices(dana, 1);
    const withoutIndexes: FunctionAccess = {
      ...SENDER_ACCESS,
      devices: {
        ...SENDER_ACCESS.devices,
        table: SENDER_ACCESS.devices?.table?.filter((action) => action !== 'dynamodb:BatchGetItem'),
      },
    };
    const source = new SqsEventSource({
      sqs,
      queueUrl: sendQueueUrl(),
      handler: async () =>
        (await import('../../lambda/adapters/primary/deliver-notifications/handler')).handler,
      functionName: 'pushgate-sender',
      access: withoutIndexes,
      maxConcurrency: 1,
      timeoutMs: 60_000,
      stopGraceMs: 30_000,
    });
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
    await source.start();
    const seen: ReturnType<typeof refusals> = [];
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: sendQueueUrl(),
          MessageBody: JSON.stringify(alertJob({ userIds: [dana] })),
        }),
      );
      const deadline = Date.now() + 90_000;
      while (seen.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen.push(...refusals());
      }
    } finally {
      await source.stop();
      await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
    }
    expect(seen[0]).toEqual({
      functionName: 'pushgate-sender',
      action: 'dynamodb:BatchGetItem',
      resource: tableArn(devicesTable()),
    });
    refusals();
  });
});
