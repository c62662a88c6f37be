/**
 * How long one APNs or FCM request may take before it counts as a timeout, unless
 * `APNS_REQUEST_TIMEOUT_MS` says otherwise. A module of its own: the routes' composition
 * reads it for the settings port, and importing it from the connection would load
 * `node:http2` into every route's bundle.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
