import { apnsEndpoint, loadCredentials } from '../adapters/secondary/apns/apns-credentials';
import { apnsConnection } from '../adapters/secondary/apns/apns-gateway';
import { fcmEndpoint, loadFcmCredentials } from '../adapters/secondary/fcm/fcm-credentials';
import { fcmConnection } from '../adapters/secondary/fcm/fcm-gateway';
import type { Ports } from '../use-cases/ports';
import { apiPorts } from './api';

/**
 * The sender's ports in the Lambda runtime (and offline, against the simulators or
 * Apple's sandbox): the routes' ports plus the push services — one warm HTTP/2
 * connection per credential and environment, made from the app's credentials (cached
 * one minute), the endpoint `config` names and the request timeout.
 */
export const senderPorts: Ports = {
  ...apiPorts,
  pushProviders: {
    async apns(app, environment) {
      const credentials = await loadCredentials(app);
      return apnsConnection(
        app.credentials ?? app.appId,
        credentials,
        environment,
        apnsEndpoint(environment),
        apiPorts.settings.requestTimeoutMs,
      );
    },
    async fcm(app) {
      const credentials = await loadFcmCredentials(app);
      return fcmConnection(
        app.fcm?.credentials ?? app.appId,
        credentials,
        fcmEndpoint(),
        apiPorts.settings.requestTimeoutMs,
      );
    },
  },
};
