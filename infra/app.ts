import { App } from 'aws-cdk-lib';
import { PushgateStack } from './pushgate-stack';
import { stackConfigFromContext } from './stack-config';

const app = new App();
new PushgateStack(app, 'Pushgate', {
  config: stackConfigFromContext(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
