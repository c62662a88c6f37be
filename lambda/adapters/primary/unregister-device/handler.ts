import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { apiPorts } from '../../../composition/api';
import { namedDeviceToken } from '../../../domain/fcm-token';
import { unregisterDevice } from '../../../use-cases/unregister-device';
import { callerUserId, pathParameter } from '../http/request';
import { httpErrors, noContent } from '../http/response';

/** `DELETE /v1/devices/{token}` — 204; another user's or an unknown token is 404. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const token = namedDeviceToken(pathParameter(event, 'token'));
    await unregisterDevice(apiPorts, userId, token);
    return noContent();
  });
