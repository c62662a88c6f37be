import { Fn, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  CREDENTIALS_PLACEHOLDER,
  FCM_CREDENTIALS_PLACEHOLDER,
} from '../../lambda/adapters/secondary/apns/credentials-placeholder';
import { ENVIRONMENT } from '../../lambda/environment';
import type { SecretsManagerAction } from '../function-access';
import type { PushgateApp } from '../pushgate-props';
import type { Binding } from './pushgate-function';

export interface ApnsCredentialsProps {
  /** The deployment's name: created secrets are `<name>/apns/<appId>/<stack id>` and `<name>/fcm/<appId>/<stack id>`. */
  name: string;
  apps: readonly PushgateApp[];
}

/**
 * Each app's APNs credentials secret: the one configured (possibly in another account,
 * encrypted with its own KMS key), or one created here holding a placeholder until
 * the operator puts the key in it. Created secrets are retained when the stack or the
 * app goes away, and a resource policy refuses to delete them — but not when the
 * stack's first create fails: then CloudFormation removes them with the rest. An app
 * with FCM has a second secret, its Firebase service-account key, made the same way.
 */
export class ApnsCredentials extends Construct {
  /** The credentials secret of each app, by app id. */
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  /** The FCM service-account key secret of each app that has FCM, by app id. */
  readonly fcmSecrets: ReadonlyMap<string, secretsmanager.ISecret>;
  private readonly apps: readonly PushgateApp[];

  constructor(scope: Construct, id: string, props: ApnsCredentialsProps) {
    super(scope, id);
    this.apps = props.apps;
    this.secrets = new Map(
      props.apps.map((app) => [
        app.appId,
        app.credentialsSecretArn === undefined
          ? this.createSecret(props.name, app.appId, 'apns')
          : secretsmanager.Secret.fromSecretCompleteArn(this, app.appId, app.credentialsSecretArn),
      ]),
    );
    this.fcmSecrets = new Map(
      props.apps.flatMap((app) =>
        app.fcm === undefined
          ? []
          : [
              [
                app.appId,
                app.fcm.credentialsSecretArn === undefined
                  ? this.createSecret(props.name, app.appId, 'fcm')
                  : secretsmanager.Secret.fromSecretCompleteArn(
                      this,
                      `Fcm${app.appId}`,
                      app.fcm.credentialsSecretArn,
                    ),
              ],
            ],
      ),
    );
  }

  /** The apps for the API functions: ids and topics, no credentials. */
  appsForRoutes(): Binding {
    return {
      variable: ENVIRONMENT.apps,
      value: JSON.stringify(
        this.apps.map(({ appId, bundleId, fcm }) => ({
          appId,
          bundleId,
          ...(fcm === undefined ? {} : { fcm: { projectId: fcm.projectId } }),
        })),
      ),
      grant: () => {},
    };
  }

  /**
   * The apps for the sender, each with its secret — on which it gets exactly these
   * actions (and decryption through Secrets Manager, for a secret with its own KMS key).
   */
  appsForSender(actions: readonly SecretsManagerAction[]): Binding {
    const value = JSON.stringify(
      this.apps.map(({ appId, bundleId, fcm }) => ({
        appId,
        bundleId,
        credentials: `secretsmanager:${this.secret(appId).secretArn}`,
        ...(fcm === undefined
          ? {}
          : {
              fcm: {
                projectId: fcm.projectId,
                credentials: `secretsmanager:${(this.fcmSecrets.get(appId) as secretsmanager.ISecret).secretArn}`,
              },
            }),
      })),
    );
    return {
      variable: ENVIRONMENT.apps,
      value,
      grant: (grantee) => {
        for (const app of this.apps) {
          // Not secret.grantRead(): that adds DescribeSecret, which the sender never calls.
          const secret = this.secret(app.appId);
          iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [secret.secretArn] });
          if (app.credentialsKmsKeyArn !== undefined && app.credentialsSecretArn !== undefined) {
            grantee.grantPrincipal.addToPrincipalPolicy(
              decryptThroughSecretsManager(this, app.credentialsKmsKeyArn, app.credentialsSecretArn),
            );
          }
          const fcmSecret = this.fcmSecrets.get(app.appId);
          if (fcmSecret !== undefined) {
            iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [fcmSecret.secretArn] });
          }
        }
      },
    };
  }

  private secret(appId: string): secretsmanager.ISecret {
    const secret = this.secrets.get(appId);
    if (secret === undefined) throw new Error(`No credentials secret for ${appId}`);
    return secret;
  }

  private createSecret(name: string, appId: string, service: 'apns' | 'fcm'): secretsmanager.ISecret {
    const apns = service === 'apns';
    const secret = new secretsmanager.Secret(this, apns ? appId : `Fcm${appId}`, {
      // The stack's own id in the name: a secret kept from a destroyed stack never blocks the
      // next deploy of the same stage with "already exists".
      secretName: credentialsSecretName(name, service, appId, stackIdPrefix(this)),
      description: apns
        ? `APNs credentials of ${appId}: holds a placeholder until you put {"keyId","teamId","key"} (token auth) or {"cert","key"} in it`
        : `FCM credentials of ${appId}: holds a placeholder until you put the Firebase project's service-account key JSON in it`,
      // A constant: CloudFormation writes the value only when the template's changes.
      secretStringValue: SecretValue.unsafePlainText(
        apns ? CREDENTIALS_PLACEHOLDER : FCM_CREDENTIALS_PLACEHOLDER,
      ),
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: apns ? 'KeepTheApnsKey' : 'KeepTheFcmKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:DeleteSecret'],
        resources: ['*'],
      }),
    );
    // Kept with the secret: removed with the stack, the policy would leave the kept APNs or FCM key
    // deletable by anyone (docs/deploy.md's teardown lifts it on purpose). A failed first create
    // still removes both.
    const policy = secret.node.tryFindChild('Policy');
    if (!(policy instanceof secretsmanager.ResourcePolicy))
      throw new Error('The secret has no resource policy');
    policy.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: apns
        ? 'APNs keys are issued and revoked in the Apple Developer portal; there is nothing AWS can rotate.'
        : 'Service-account keys are issued and revoked in Google Cloud IAM; there is nothing AWS can rotate (or use workload identity federation: docs/fcm.md).',
    });
    return secret;
  }
}

/**
 * kms:Decrypt on exactly the key, only when Secrets Manager asks for it (in the
 * secret's own region) and only for this secret. A key in another account must also
 * allow the sender's role in its key policy.
 */
function decryptThroughSecretsManager(
  scope: Construct,
  keyArn: string,
  secretArn: string,
): iam.PolicyStatement {
  const secretRegion = secretArn.split(':')[3];
  return new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [keyArn],
    conditions: {
      StringEquals: {
        'kms:ViaService': `secretsmanager.${secretRegion}.${Stack.of(scope).urlSuffix}`,
        'kms:EncryptionContext:SecretARN': secretArn,
      },
    },
  });
}

/**
 * The name of the secret the stack creates for an app's credentials: the stack's own id
 * last, so a secret kept from a destroyed stack never blocks the next deploy of the same
 * stage with "already exists". docs/deploy.md states it (a test reads it from here).
 */
export function credentialsSecretName(
  name: string,
  service: 'apns' | 'fcm',
  appId: string,
  stackId: string,
): string {
  return `${name}/${service}/${appId}/${stackId}`;
}

/** The first 8 hex digits of the stack's id (arn:…:stack/<name>/<uuid>): new for each stack created. */
function stackIdPrefix(scope: Construct): string {
  const uuid = Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
  return Fn.select(0, Fn.split('-', uuid));
}
