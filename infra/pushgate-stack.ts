import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { API_ROUTES, handlerEntry } from './api-routes';
import { DevicesTable } from './constructs/devices-table';
import { PushgateHttpApi } from './constructs/http-api';
import { PushgateFunction } from './constructs/pushgate-function';
import type { StackConfig } from './stack-config';

export interface PushgateStackProps extends StackProps {
  config: StackConfig;
}

/** pushgate on AWS: the Devices table, the HTTP API and one Lambda per route. */
export class PushgateStack extends Stack {
  constructor(scope: Construct, id: string, props: PushgateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const devices = new DevicesTable(this, 'Devices');
    const http = new PushgateHttpApi(this, 'Http', {
      ...(config.jwtIssuer && config.jwtAudience
        ? { jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience } }
        : {}),
    });
    const apps = JSON.stringify(config.apps.map(({ appId, bundleId }) => ({ appId, bundleId })));

    for (const route of API_ROUTES) {
      const fn = new PushgateFunction(this, route.name, {
        entry: handlerEntry(route.name),
        description: `pushgate ${route.method} ${route.path}`,
        environment: { DEVICES_TABLE_NAME: devices.table.tableName, PUSHGATE_APPS: apps },
      });
      devices.grant(fn.role, route.devices);
      http.addRoute(route, fn.function);
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'API Gateway invokes this function synchronously and gets its error; a DLQ only catches asynchronous invocations.',
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: http.url });
    new CfnOutput(this, 'DevicesTableName', { value: devices.table.tableName });
    if (http.userPool && http.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: http.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: http.userPoolClient.userPoolClientId });
    }
  }
}
