import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import '../../../validation';
import { config } from '../../../config';
import type { AppConfig } from '../../../domain/app';
import { CredentialsUnavailableError } from '../../../domain/errors';
import { credentialsCache, describeSource, readCredentialsJson } from '../credentials-source';
import { type FcmCredentials, type FcmEndpoint, GOOGLE_FCM_ENDPOINT } from './fcm-gateway';

/**
 * An app's FCM credentials: the Google service-account key JSON of its Firebase
 * project, from its credentials source (credentials-source.ts). Only the fields the
 * token exchange needs are read; the rest of Google's key file is allowed and ignored.
 */
const serviceAccountSchema = z.object({
  type: z.literal('service_account'),
  client_email: z.string().check(z.minLength(3)),
  private_key: z.string().check(z.minLength(1)),
  private_key_id: z.optional(z.string()),
  token_uri: z.optional(z.url({ protocol: /^https$/ })),
});

const cached = credentialsCache<FcmCredentials>();

export async function loadFcmCredentials(app: AppConfig): Promise<FcmCredentials> {
  const fcm = app.fcm;
  const source = fcm?.credentials;
  if (fcm === undefined || source === undefined) {
    const cause = new Error(
      fcm === undefined ? 'the app has no FCM configured' : 'no credentials configured',
    );
    throw new CredentialsUnavailableError(app.appId, cause, 'nowhere', 'FCM');
  }
  return cached(`${fcm.projectId}|${source}`, async () => {
    try {
      const value = await readCredentialsJson(source, {
        notJson: 'the value is not JSON; it must be a Google service-account key file.',
        placeholder:
          "it still holds the placeholder the stack created. Put the Firebase project's service-account key JSON in it.",
      });
      const parsed = serviceAccountSchema.safeParse(value);
      if (!parsed.success) {
        throw new Error(
          'the value is not a service-account key ({"type": "service_account", "client_email", "private_key", …}).',
        );
      }
      const key = parsed.data;
      return {
        projectId: fcm.projectId,
        serviceAccount: {
          project_id: fcm.projectId,
          client_email: key.client_email,
          private_key: key.private_key,
          ...(key.private_key_id === undefined ? {} : { private_key_id: key.private_key_id }),
          ...(key.token_uri === undefined ? {} : { token_uri: key.token_uri }),
        },
      };
    } catch (error) {
      throw new CredentialsUnavailableError(app.appId, error, describeSource(source), 'FCM');
    }
  });
}

let ca: string | undefined;

/** fcm.googleapis.com, or — offline and in tests — the simulator named by FCM_ENDPOINT. */
export function fcmEndpoint(): FcmEndpoint {
  const address = config.fcmEndpoint;
  if (address === undefined) return GOOGLE_FCM_ENDPOINT;
  const caFile = config.fcmCaFile;
  if (caFile !== undefined && ca === undefined) ca = readFileSync(caFile, 'utf8');
  return { address, ...(ca === undefined ? {} : { ca }) };
}
