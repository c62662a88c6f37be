import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { liveActivities, settings } from '../../../composition/api';
import { canonicalDeviceToken } from '../../../domain/device-token';
import { liveActivityTokenView, parseActivityId } from '../../../domain/live-activity';
import { registerLiveActivityToken } from '../../../use-cases/register-live-activity-token';
import { callerUserId, parseJsonBody, pathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';
import {
  MAX_LIVE_ACTIVITY_BODY_BYTES,
  registerActivityTokenBody,
} from '../register-push-to-start-token/schema';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { liveActivities, settings };

/** `PUT /v1/live-activities/{activityId}/tokens/{token}` — the update token of the caller's activity; 201 / 200. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const activityId = parseActivityId(pathParameter(event, 'activityId'));
    const token = canonicalDeviceToken(pathParameter(event, 'token'));
    const body = parseJsonBody(event, registerActivityTokenBody, MAX_LIVE_ACTIVITY_BODY_BYTES);
    const registered = await registerLiveActivityToken(ports, {
      ...body,
      kind: 'update',
      token,
      userId,
      activityId,
    });
    return json(registered.result === 'refreshed' ? 200 : 201, liveActivityTokenView(registered.token));
  });
