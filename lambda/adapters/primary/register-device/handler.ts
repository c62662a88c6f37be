import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { deviceRegistry, metrics, settings } from '../../../composition/api';
import { deviceView } from '../../../domain/device';
import { registeredDeviceToken } from '../../../domain/fcm-token';
import { DEFAULT_PLATFORM, registrationPlatform } from '../../../domain/platform';
import { registerDevice } from '../../../use-cases/register-device';
import { callerUserId, parseJsonBody, pathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';
import { MAX_REGISTER_BODY_BYTES, registerDeviceBody } from './schema';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry, metrics, settings };

/**
 * `PUT /v1/devices/{token}` — 201 when the token is new to the caller, 200 when
 * refreshed. The body's `platform` says which form the token must have.
 */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const { platform, environment, ...body } = parseJsonBody(
      event,
      registerDeviceBody,
      MAX_REGISTER_BODY_BYTES,
    );
    // The token first (a wrong token is the likelier mistake, and its message says how to
    // convert it), then the fields its platform needs. An FCM token is opaque and
    // case-sensitive: checked, never rewritten.
    const pathToken = pathParameter(event, 'token');
    const token = registeredDeviceToken(pathToken, platform ?? DEFAULT_PLATFORM);
    const reached = registrationPlatform({ platform, environment });
    const { device, result } = await registerDevice(ports, { ...body, ...reached, token, userId });
    return json(result === 'refreshed' ? 200 : 201, deviceView(device));
  });
