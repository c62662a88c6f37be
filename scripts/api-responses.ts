import { PLATFORMS } from '../lambda/domain/platform';
import { DEVICE_STATUSES } from '../lambda/domain/tracking';

/**
 * The JSON Schemas of the API's response bodies, published under components/schemas
 * of the OpenAPI description. Written by hand: the handlers build their answers from
 * domain types, not from zod, so an answer's shape changes here alone.
 */

/** A reference to one of the published schemas. */
export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const RESPONSE_SCHEMAS: Record<string, Record<string, unknown>> = {
  NotificationBatchResults: {
    type: 'object',
    properties: {
      results: {
        type: 'array',
        description: 'One per job of the request, in its order.',
        items: {
          type: 'object',
          properties: {
            notificationId: {
              type: 'string',
              description:
                'The job’s id (assigned when it named none); absent for a refused job that named none.',
            },
            status: {
              type: 'integer',
              description:
                '202 accepted and queued (or a repeat of an accepted job), else the 4xx of the refusal.',
            },
            error: {
              type: 'object',
              description:
                'Why the job was refused: the code and message `POST /v1/notifications` would answer.',
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              required: ['code', 'message'],
            },
          },
          required: ['status'],
        },
      },
    },
    required: ['results'],
  },
  Device: {
    type: 'object',
    properties: {
      token: {
        type: 'string',
        description: 'Lowercase hex (iOS); the FCM registration token as sent (Android).',
      },
      userId: { type: 'string' },
      appId: { type: 'string' },
      platform: { type: 'string', enum: [...PLATFORMS] },
      environment: { type: 'string', enum: ['sandbox', 'production'], description: 'iOS devices only.' },
      locale: { type: 'string' },
      appVersion: { type: 'string' },
      registeredAt: {
        type: 'string',
        format: 'date-time',
        description: 'When this user registered this token.',
      },
      lastSeenAt: { type: 'string', format: 'date-time', description: 'The last registration or refresh.' },
      expiresAt: {
        type: 'string',
        format: 'date-time',
        description: 'When the device expires unless refreshed.',
      },
    },
    required: ['token', 'userId', 'appId', 'platform', 'registeredAt', 'lastSeenAt', 'expiresAt'],
    additionalProperties: false,
  },
  LiveActivityToken: {
    type: 'object',
    properties: {
      token: { type: 'string', description: 'Lowercase hex.' },
      kind: { type: 'string', enum: ['push-to-start', 'update'] },
      userId: { type: 'string' },
      appId: { type: 'string' },
      environment: { type: 'string', enum: ['sandbox', 'production'] },
      attributesType: { type: 'string', description: 'Push-to-start tokens: the ActivityAttributes type.' },
      activityId: { type: 'string', description: 'Update tokens: the activity.' },
      registeredAt: { type: 'string', format: 'date-time' },
      lastSeenAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
    },
    required: ['kind', 'token', 'userId', 'appId', 'environment', 'registeredAt', 'lastSeenAt', 'expiresAt'],
    additionalProperties: false,
  },
  DeviceList: {
    type: 'object',
    properties: { devices: { type: 'array', items: schemaRef('Device') } },
    required: ['devices'],
    additionalProperties: false,
  },
  SendRequestAnswer: {
    type: 'object',
    properties: {
      notificationId: { type: 'string' },
      recipients: {
        description: 'How many users, tokens or activities the request names, each counted once.',
        oneOf: [
          {
            type: 'object',
            properties: { users: { type: 'integer' } },
            required: ['users'],
            additionalProperties: false,
          },
          {
            type: 'object',
            properties: { tokens: { type: 'integer' } },
            required: ['tokens'],
            additionalProperties: false,
          },
          {
            type: 'object',
            properties: { activities: { type: 'integer' } },
            required: ['activities'],
            additionalProperties: false,
          },
        ],
      },
      parts: {
        type: 'integer',
        description: 'How many job parts the request was split into on the send queue.',
      },
      jobs: {
        type: 'integer',
        deprecated: true,
        description: 'The same as `parts`, kept until the next major release: read `parts`.',
      },
      tracked: {
        type: 'boolean',
        description: 'Whether the job was sent with `track.receipts` (per-device statuses and receipts).',
      },
    },
    required: ['notificationId', 'recipients', 'parts', 'jobs', 'tracked'],
    additionalProperties: false,
  },
  // One device of a tracked job's report (domain/tracking.ts TrackedDevice). The schema keeps
  // its first name: clients generated from this description name their types by it.
  DeviceDelivery: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      userId: { type: 'string' },
      status: { type: 'string', enum: [...DEVICE_STATUSES] },
      apnsId: { type: 'string', description: 'The `apns-id` APNs accepted the push under.' },
      acceptedAt: { type: 'string', format: 'date-time' },
      receivedAt: { type: 'string', format: 'date-time' },
      openedAt: { type: 'string', format: 'date-time' },
      reason: {
        type: 'string',
        description: 'Why the device was pruned or failed (an APNs reason or ours).',
      },
      repushes: { type: 'integer', description: 'Re-push rounds sent to this device.' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    required: ['token', 'userId', 'status', 'updatedAt'],
  },
  NotificationReport: {
    type: 'object',
    properties: {
      notificationId: { type: 'string' },
      tracked: { type: 'boolean', description: 'Whether the job was sent with `track.receipts`.' },
      recipients: {
        type: 'object',
        description:
          'The send answer’s `recipients` (users, tokens or activities named); for users also how many had no device of the app to push to.',
        properties: {
          users: { type: 'integer' },
          usersWithoutDevices: { type: 'integer' },
          tokens: { type: 'integer' },
          activities: { type: 'integer' },
        },
      },
      parts: { type: 'integer', description: 'The send answer’s `parts`: job parts on the send queue.' },
      jobs: {
        type: 'integer',
        deprecated: true,
        description: 'The same as `parts`, kept until the next major release: read `parts`.',
      },
      reasons: {
        type: 'object',
        description:
          'Devices per `outcome:reason` (e.g. `pruned:Unregistered`, `unregistered:NotRegistered`, `retried:TooManyRequests`), largest first.',
        additionalProperties: { type: 'integer' },
      },
      reason: {
        type: 'string',
        description:
          'Present when nobody was, or will be, reached: why, in a sentence (no device registered, every device refused, the job dead-lettered).',
      },
      deadLettered: {
        type: 'array',
        description: 'Parts of the job the sender moved to the dead-letter queue, with the reason.',
        items: {
          type: 'object',
          properties: {
            part: { type: 'string' },
            attempt: { type: 'integer' },
            reason: { type: 'string' },
            detail: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
          },
          required: ['part', 'attempt', 'reason', 'detail', 'at'],
        },
      },
      counts: {
        type: 'object',
        description:
          'The job’s devices in total and per status (every status present, zeros included): per device for a tracked job, from each chunk’s totals for an untracked one.',
        properties: Object.fromEntries(
          ['devices', ...DEVICE_STATUSES].map((name) => [name, { type: 'integer' }]),
        ),
        required: ['devices', ...DEVICE_STATUSES],
      },
      devices: { type: 'array', items: schemaRef('DeviceDelivery'), description: 'One page of devices.' },
      nextToken: {
        type: 'string',
        description: 'Present when more devices follow: pass it to get the next page.',
      },
      progress: {
        type: 'object',
        description:
          'Whether every part of the request has had its recipients resolved and sent: a stuck or lost part shows here.',
        properties: {
          parts: { type: 'integer', description: 'Parts the request was split into (when known).' },
          partsDone: { type: 'integer' },
          chunksInProgress: {
            type: 'integer',
            description: 'Chunks claimed by a sender and not yet finished.',
          },
          complete: { type: 'boolean' },
        },
        required: ['partsDone', 'chunksInProgress'],
      },
    },
    required: ['notificationId', 'tracked', 'counts', 'reasons', 'devices'],
  },
};
