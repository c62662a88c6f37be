/**
 * pushgate as a library: drop `Pushgate` into a stack of your own CDK app.
 *
 * ```ts
 * import { Pushgate } from 'pushgate/infra';
 * new Pushgate(this, 'Push', { apps, auth, alarms, domain });
 * ```
 */
export { API_ROUTES, type ApiRoute } from './api-routes';
export type { AlarmName } from './constructs/operations';
export type { Binding } from './constructs/pushgate-function';
export { PushgateFunction } from './constructs/pushgate-function';
export { Pushgate } from './pushgate';
export type { PushgateApp, PushgateProps, ResolvedPushgateProps } from './pushgate-props';
export { PushgateStack, type PushgateStackProps } from './pushgate-stack';
