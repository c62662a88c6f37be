import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PushgateStack } from '../../infra/pushgate-stack';
import { stackConfigFromContext } from '../../infra/stack-config';

/** Synthesises the stack the way `cdk synth` does, with the given context. */
export function synthStack(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { apps: [{ appId: 'com.example.app', bundleId: 'com.example.app' }], ...context },
  });
  const stack = new PushgateStack(app, 'Pushgate', {
    config: stackConfigFromContext(app.node),
    env: { account: '123456789012', region: 'us-east-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

let defaultStack: ReturnType<typeof synthStack> | undefined;

/**
 * The stack with the default context, synthesized once per test run: a synth bundles every
 * function, and the infra project runs its files in one module graph (`isolate: false`).
 */
export function synthDefaultStack() {
  defaultStack ??= synthStack();
  return defaultStack;
}
