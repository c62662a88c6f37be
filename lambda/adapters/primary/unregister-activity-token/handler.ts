import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { liveActivities } from '../../../composition/api';
import { canonicalDeviceToken } from '../../../domain/device-token';
import { parseActivityId } from '../../../domain/live-activity';
import { unregisterLiveActivityToken } from '../../../use-cases/register-live-activity-token';
import { callerUserId, pathParameter } from '../http/request';
import { httpErrors, noContent } from '../http/response';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { liveActivities };

/** `DELETE /v1/live-activities/{activityId}/tokens/{token}` — 204; not the caller's token of that activity: 404. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const activityId = parseActivityId(pathParameter(event, 'activityId'));
    const token = canonicalDeviceToken(pathParameter(event, 'token'));
    await unregisterLiveActivityToken(ports, userId, 'update', token, activityId);
    return noContent();
  });
