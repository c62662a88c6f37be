import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRoute } from '../api-routes';

export interface HttpApiProps {
  /** The OIDC issuer and audience of app users' JWTs; a Cognito user pool is created when absent. */
  jwt?: { issuer: string; audience: string[] };
  /** Steady-state requests per second across the API, and the burst above it. */
  throttle?: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: JWT authorizer for app routes, IAM for backend routes, default-stage
 * throttling and JSON access logs.
 */
export class PushgateHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  private readonly jwtAuthorizer: HttpJwtAuthorizer;
  private readonly iamAuthorizer = new HttpIamAuthorizer();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    let jwt = props.jwt;
    if (jwt === undefined) {
      this.userPool = this.createUserPool();
      this.userPoolClient = this.userPool.addClient('App', {
        authFlows: { userSrp: true },
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
      });
      jwt = {
        issuer: `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`,
        audience: [this.userPoolClient.userPoolClientId],
      };
    }
    this.jwtAuthorizer = new HttpJwtAuthorizer('AppUsers', jwt.issuer, { jwtAudience: jwt.audience });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'pushgate: device registration and notifications',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const throttle = props.throttle ?? { rateLimit: 1000, burstLimit: 2000 };
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
  }

  /** The URL of the default stage. */
  get url(): string {
    return `https://${this.api.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/`;
  }

  addRoute(route: ApiRoute, handler: lambda.IFunction): void {
    this.api.addRoutes({
      path: route.path,
      methods: [route.method as apigwv2.HttpMethod],
      integration: new HttpLambdaIntegration(`${route.name}-integration`, handler, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      authorizer: route.auth === 'jwt' ? this.jwtAuthorizer : this.iamAuthorizer,
    });
  }

  private createUserPool(): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is offered (TOTP) but whether to require it is the app owner’s product decision; this pool is the getting-started default — production apps usually bring their own issuer (jwtIssuer).',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan costs per active user; the getting-started pool stays on Essentials, and owners who need Plus enable it or bring their own issuer.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection needs the Cognito Plus plan; owners who need it enable it or bring their own issuer (jwtIssuer).',
      },
    );
    return pool;
  }
}
