import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { deviceRegistry } from '../../../composition/api';
import { namedDeviceToken } from '../../../domain/fcm-token';
import { unregisterDevice } from '../../../use-cases/unregister-device';
import { callerUserId, pathParameter } from '../http/request';
import { httpErrors, noContent } from '../http/response';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry };

/** `DELETE /v1/devices/{token}` — 204; another user's or an unknown token is 404. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const token = namedDeviceToken(pathParameter(event, 'token'));
    await unregisterDevice(ports, userId, token);
    return noContent();
  });
