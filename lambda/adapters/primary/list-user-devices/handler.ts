import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { deviceRegistry } from '../../../composition/api';
import { userIdSchema } from '../../../domain/user';
import { listDevices } from '../../../use-cases/list-devices';
import { parsePathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry };

/** `GET /v1/users/{userId}/devices` (IAM) — a user's devices, for backends and support. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = parsePathParameter(event, 'userId', userIdSchema);
    return json(200, { devices: await listDevices(ports, userId) });
  });
