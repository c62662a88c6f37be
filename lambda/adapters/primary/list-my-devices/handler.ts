import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { deviceRegistry } from '../../../composition/api';
import { listDevices } from '../../../use-cases/list-devices';
import { callerUserId } from '../http/request';
import { httpErrors, json } from '../http/response';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry };

/** `GET /v1/devices` — the caller's devices, never anyone else's. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => json(200, { devices: await listDevices(ports, callerUserId(event)) }));
