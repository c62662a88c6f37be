import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { deviceRegistry } from '../../../composition/api';
import { userIdSchema } from '../../../domain/user';
import { eraseUserDevices } from '../../../use-cases/erase-user-devices';
import { parsePathParameter } from '../http/request';
import { httpErrors, noContent } from '../http/response';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry };

/** `DELETE /v1/users/{userId}/devices` (IAM) — log the user out everywhere / erase their devices. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = parsePathParameter(event, 'userId', userIdSchema);
    await eraseUserDevices(ports, userId);
    return noContent();
  });
