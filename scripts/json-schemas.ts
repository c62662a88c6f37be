import * as z from 'zod/mini';
import { receiptBody } from '../lambda/adapters/primary/record-receipt/schema';
import { registerDeviceBody } from '../lambda/adapters/primary/register-device/schema';
import {
  registerActivityTokenBody,
  registerPushToStartBody,
} from '../lambda/adapters/primary/register-push-to-start-token/schema';
import { androidConfigSchema, androidJobField } from '../lambda/domain/android-config';
import { sendJobSchema } from '../lambda/domain/send-job';

/**
 * The JSON Schemas published in schema/, generated from the zod schemas the code
 * validates with (a test fails when the committed files drift from these).
 */
export function jsonSchemas(): Record<string, unknown> {
  return {
    'send-job.schema.json': {
      $id: 'https://pushgate.dev/schema/send-job.schema.json',
      title: 'pushgate send job (POST /v1/notifications body and send-queue message)',
      ...publishedJsonSchema(sendJobSchema),
    },
    'register-device.schema.json': {
      $id: 'https://pushgate.dev/schema/register-device.schema.json',
      title: 'pushgate device registration (PUT /v1/devices/{token} body)',
      ...publishedJsonSchema(registerDeviceBody),
    },
    'register-push-to-start-token.schema.json': {
      $id: 'https://pushgate.dev/schema/register-push-to-start-token.schema.json',
      title:
        'pushgate Live Activity push-to-start token (PUT /v1/live-activities/push-to-start/{token} body)',
      ...publishedJsonSchema(registerPushToStartBody),
    },
    'register-activity-token.schema.json': {
      $id: 'https://pushgate.dev/schema/register-activity-token.schema.json',
      title: 'pushgate Live Activity update token (PUT /v1/live-activities/{activityId}/tokens/{token} body)',
      ...publishedJsonSchema(registerActivityTokenBody),
    },
    'receipt.schema.json': {
      $id: 'https://pushgate.dev/schema/receipt.schema.json',
      title: 'pushgate receipt (POST /v1/notifications/{id}/receipts body)',
      ...publishedJsonSchema(receiptBody),
    },
  };
}

/** The JSON Schema of a body schema as published (schema/ and the OpenAPI document). */
export function publishedJsonSchema(schema: z.ZodMiniType): z.core.JSONSchema.BaseSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // The job's `android` validates with androidConfigSchema inside a custom check (for its error code).
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema !== androidJobField) return;
      const { $schema: _dialect, ...android } = z.toJSONSchema(androidConfigSchema, { io: 'input' });
      Object.assign(jsonSchema, android, {
        description:
          "FCM's AndroidConfig (HTTP v1), fields as Google spells them; overrides what pushgate derives for Android devices.",
      });
    },
  });
}

export function serialise(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
