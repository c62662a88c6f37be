import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRoute } from '../api-routes';
import type { ResolvedPushgateProps } from '../pushgate-props';

export interface HttpApiProps {
  /** The deployment's name: the default prefix of the hosted UI's domain. */
  name: string;
  /** Your own OIDC issuer, or a Cognito user pool created here. */
  auth: ResolvedPushgateProps['auth'];
  /** A custom domain name and its ACM certificate (in the stack's region). */
  domain?: ResolvedPushgateProps['domain'];
  /** Steady-state requests per second across the API, and the burst above it. */
  throttle: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: JWT authorizer for app routes, IAM for backend routes, default-stage
 * throttling and JSON access logs; optionally a custom domain. Without an issuer of
 * your own, a Cognito user pool with a hosted sign-in page (authorization code flow
 * with PKCE, your callback URLs) issues the app users' tokens.
 */
export class PushgateHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** The issuer the JWT authorizer trusts. */
  readonly jwtIssuer: string;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly domainName?: apigwv2.DomainName;
  /** The default stage's JSON access log: one line per request, with its status. */
  readonly accessLogs: logs.LogGroup;
  private readonly jwtAuthorizer: HttpJwtAuthorizer;
  private readonly iamAuthorizer = new HttpIamAuthorizer();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    let jwt = props.auth.jwt;
    const hostedUi = props.auth.cognito;
    if (jwt === undefined && hostedUi !== undefined) {
      this.userPool = this.createUserPool(hostedUi.email);
      this.userPoolClient = this.userPool.addClient('App', {
        authFlows: { userSrp: true },
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        // A public client (an app cannot keep a secret): the code flow, with PKCE from the app.
        generateSecret: false,
        oAuth: {
          flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: hostedUi.callbackUrls,
          ...(hostedUi.logoutUrls === undefined ? {} : { logoutUrls: hostedUi.logoutUrls }),
        },
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      });
      this.userPoolDomain = this.userPool.addDomain('HostedUi', {
        cognitoDomain: { domainPrefix: hostedUi.domainPrefix ?? `${props.name}-${Stack.of(this).account}` },
      });
      jwt = {
        issuer: `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${this.userPool.userPoolId}`,
        audience: [this.userPoolClient.userPoolClientId],
      };
    }
    if (jwt === undefined) throw new Error('Configure auth.jwt or auth.cognito.');
    this.jwtIssuer = jwt.issuer;
    this.jwtAuthorizer = new HttpJwtAuthorizer('AppUsers', jwt.issuer, { jwtAudience: jwt.audience });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.name,
      description: 'pushgate: device registration and notifications',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.accessLogs = accessLogs;
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
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

    if (props.domain !== undefined) {
      const certificateRegion = props.domain.certificateArn.split(':')[3];
      const region = Stack.of(this).region;
      if (!Token.isUnresolved(region) && certificateRegion !== region) {
        throw new Error(
          `The API's certificate must be in the stack's region (${region}), not ${certificateRegion}: a regional API Gateway domain uses a certificate from its own region.`,
        );
      }
      this.domainName = new apigwv2.DomainName(this, 'Domain', {
        domainName: props.domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      new apigwv2.ApiMapping(this, 'DomainMapping', {
        api: this.api,
        domainName: this.domainName,
        stage: this.stage,
      });
    }
  }

  /** The URL apps and backends should use: the custom domain's when there is one. */
  get url(): string {
    return this.domainName === undefined ? this.executeApiUrl : `https://${this.domainName.name}/`;
  }

  /** The URL of the default stage on API Gateway's own host. */
  get executeApiUrl(): string {
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

  private createUserPool(email?: {
    from: string;
    replyTo?: string | undefined;
    sesRegion?: string | undefined;
  }) {
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
      ...(email === undefined
        ? {}
        : {
            email: cognito.UserPoolEmail.withSES({
              fromEmail: email.from,
              ...(email.replyTo === undefined ? {} : { replyTo: email.replyTo }),
              ...(email.sesRegion === undefined ? {} : { sesRegion: email.sesRegion }),
            }),
          }),
      // The users' accounts: kept when the stack goes, and CloudFormation may not delete them.
      deletionProtection: true,
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
