import type { PushgateConfig } from './infra/config';

/**
 * THE deployment configuration: every `npx cdk deploy` reads this file, so commit
 * each change. `npx cdk deploy` deploys the dev stage; `npx cdk deploy -c stage=prod`
 * the prod one. A stage other than dev must name its own apps (not com.example.*),
 * its account and region, and who gets the alarms. Every field: infra/pushgate-props.ts.
 */
const config: PushgateConfig = {
  stages: {
    dev: {
      apps: [{ appId: 'com.example.app', bundleId: 'com.example.app' }],
      auth: { cognito: { callbackUrls: ['com.example.app://signed-in'] } },
    },
    // prod: {
    //   env: { account: '123456789012', region: 'eu-west-1' },
    //   apps: [{ appId: 'com.acme.chat', bundleId: 'com.acme.chat' }],
    //   auth: { cognito: { callbackUrls: ['com.acme.chat://signed-in'], logoutUrls: ['com.acme.chat://signed-out'] } },
    //   alarms: { emails: ['oncall@acme.com'] },
    //   domain: { name: 'push.acme.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/…' },
    // },
  },
};

export default config;
