import * as z from 'zod/mini';
import { appIdSchema } from '../../../domain/app';
import { APNS_ENVIRONMENTS } from '../../../domain/device';
import { attributesTypeSchema } from '../../../domain/live-activity';

/** The largest registration body we read; a valid one is under 400 bytes. */
export const MAX_LIVE_ACTIVITY_BODY_BYTES = 4096;

const environment = z.enum(APNS_ENVIRONMENTS, { error: 'The environment is "sandbox" or "production".' });

/** Body of `PUT /v1/live-activities/push-to-start/{token}`. Unknown fields are refused. */
export const registerPushToStartBody = z.strictObject({
  appId: appIdSchema,
  environment,
  attributesType: attributesTypeSchema,
});

/** Body of `PUT /v1/live-activities/{activityId}/tokens/{token}`. Unknown fields are refused. */
export const registerActivityTokenBody = z.strictObject({
  appId: appIdSchema,
  environment,
});
