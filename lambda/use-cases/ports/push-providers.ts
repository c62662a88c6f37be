import type { RawApnsAnswer } from '../../domain/apns-answer';
import type { AppConfig } from '../../domain/app';
import type { ApnsEnvironment } from '../../domain/device';
import type { RawFcmAnswer } from '../../domain/fcm-answer';

/** One request for many tokens: the same body for each (APNs), or one per token (FCM puts the token in it). */
export interface PushRequest {
  headers: Record<string, string>;
  body: string | ((token: string) => string);
}

/** A warm HTTP/2 connection to a push service: one raw answer per token, in token order. */
export interface PushConnection<Answer> {
  sendAll(request: PushRequest, tokens: readonly string[]): Promise<Answer[]>;
}

/**
 * The push services, each connection made from the app's credentials, the service's
 * endpoint and the request timeout — reused across invocations. A connection that
 * cannot be made (credentials missing or unreadable) rejects.
 */
export interface PushProviders {
  apns(app: AppConfig, environment: ApnsEnvironment): Promise<PushConnection<RawApnsAnswer>>;
  fcm(app: AppConfig): Promise<PushConnection<RawFcmAnswer>>;
}
