import { z } from 'zod';
import { appIdSchema } from '../lambda/domain/app';
import { DEFAULT_MAX_DEVICES_PER_USER, MOST_DEVICES_PER_USER } from '../lambda/domain/device-set';
import { SENDER } from './queue-settings';

/** The HTTP API's default throttling (requests per second, and the burst above it); `api.throttle` overrides it. */
export const API_THROTTLE = { rateLimit: 1_000, burstLimit: 2_000 } as const;

/**
 * What a `Pushgate` deployment is configured with — plain data, validated at synth
 * (a config file run by tsx is not type-checked, so a typo must still fail loudly).
 * Unknown keys are refused.
 */

const partition = 'arn:aws[a-z-]*';
const region = '[a-z]{2}(?:-[a-z]+)+-\\d';
const account = '\\d{12}';

const secretArn = z
  .string()
  .regex(
    new RegExp(`^${partition}:secretsmanager:${region}:${account}:secret:.+-[A-Za-z0-9]{6}$`),
    'A secret’s complete ARN, ending in its 6-character suffix (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf).',
  );
const kmsKeyArn = z
  .string()
  .regex(
    new RegExp(`^${partition}:kms:${region}:${account}:key/[A-Za-z0-9-]+$`),
    'A KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>); an alias ARN cannot be granted kms:Decrypt.',
  );
const topicArn = z
  .string()
  .regex(new RegExp(`^${partition}:sns:${region}:${account}:[A-Za-z0-9_-]+$`), 'An SNS topic ARN.');
const ruleArn = z
  .string()
  .regex(
    new RegExp(`^${partition}:events:${region}:${account}:rule/[A-Za-z0-9._/-]+$`),
    'An EventBridge rule ARN.',
  );
const certificateArn = z
  .string()
  .regex(
    new RegExp(`^${partition}:acm:${region}:${account}:certificate/[A-Za-z0-9-]+$`),
    'An ACM certificate ARN.',
  );
/** Where Cognito may send a signed-in user back: the app's own scheme, https, or http on localhost. */
const redirectUrl = z
  .url()
  .refine(
    (url) => !url.startsWith('http:') || /^http:\/\/(localhost|127\.0\.0\.1)([:/]|$)/.test(url),
    'Cognito accepts plain http only for localhost; use https or the app’s own URL scheme.',
  );

export const appSchema = z
  .strictObject({
    /** The app id backends name in send jobs; a bundle id such as "com.acme.chat". */
    appId: z
      .string()
      .refine(
        (value) => appIdSchema.safeParse(value).success,
        'An app id is a bundle id such as "com.acme.chat": letters, digits and hyphens between dots.',
      ),
    /** The APNs topic: the app's bundle id. */
    bundleId: z.string().min(1),
    /** An existing secret with the app's APNs credentials; else the construct creates one to fill. */
    credentialsSecretArn: secretArn.optional(),
    /** The customer-managed KMS key that encrypts that existing secret (needed cross-account). */
    credentialsKmsKeyArn: kmsKeyArn.optional(),
    /** FCM for the app's Android devices: its Firebase project, and an existing secret with a service-account key (else one is created to fill). */
    fcm: z
      .strictObject({
        projectId: z
          .string()
          .regex(
            /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
            'A Firebase project id is 6–30 lowercase letters, digits and hyphens.',
          ),
        credentialsSecretArn: secretArn.optional(),
      })
      .optional(),
  })
  .refine((app) => app.credentialsKmsKeyArn === undefined || app.credentialsSecretArn !== undefined, {
    message: 'credentialsKmsKeyArn is for an existing secret: set credentialsSecretArn too.',
    path: ['credentialsKmsKeyArn'],
  })
  .refine(
    (app) =>
      app.credentialsKmsKeyArn === undefined ||
      app.credentialsSecretArn?.split(':')[3] === app.credentialsKmsKeyArn.split(':')[3],
    {
      message:
        'Secrets Manager uses a KMS key in the secret’s own region: the key and the secret must share it.',
      path: ['credentialsKmsKeyArn'],
    },
  );

const authSchema = z
  .strictObject({
    /** Bring your own OIDC issuer: app users' JWTs are checked against it. */
    jwt: z
      .strictObject({
        issuer: z.url().startsWith('https://', 'The issuer is an https URL.'),
        audience: z.array(z.string().min(1)).min(1),
      })
      .optional(),
    /** Or a Cognito user pool created for you, with a hosted sign-in page (code flow + PKCE). */
    cognito: z
      .strictObject({
        /** Where the hosted sign-in returns with the code, e.g. `com.acme.chat://signed-in`. */
        callbackUrls: z.array(redirectUrl).min(1),
        logoutUrls: z.array(redirectUrl).optional(),
        /** The hosted UI's domain prefix (unique in the region); default `<name>-<account>`. */
        domainPrefix: z
          .string()
          .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'Lower-case letters, digits and hyphens.')
          .refine((prefix) => !/aws|amazon|cognito/.test(prefix), 'Cognito refuses aws, amazon and cognito.')
          .optional(),
        /** Send sign-up and reset mails through SES instead of Cognito's own (about 50 a day). */
        email: z
          .strictObject({
            from: z.email(),
            replyTo: z.email().optional(),
            /** The SES region, when not the stack's. */
            sesRegion: z
              .string()
              .regex(new RegExp(`^${region}$`))
              .optional(),
          })
          .optional(),
      })
      .optional(),
  })
  .refine((auth) => (auth.jwt === undefined) !== (auth.cognito === undefined), {
    message:
      'Set exactly one of auth.jwt (your own OIDC issuer) or auth.cognito (a user pool created for you).',
  });

export const pushgatePropsSchema = z
  .strictObject({
    /**
     * Prefix of every name the deployment gives (secrets, alarms, dashboard, metrics
     * namespace, hosted UI domain): deployments with different names share an account.
     */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
        'A name is 2–32 lower-case letters, digits and hyphens, starting with a letter.',
      )
      .default('pushgate'),
    /** The apps served: app id → APNs topic and credentials. */
    apps: z.array(appSchema).min(1, 'Configure at least one app.'),
    auth: authSchema,
    alarms: z
      .strictObject({
        /** Who gets the alarm mails (each confirms the subscription once). */
        emails: z
          .array(z.email())
          .refine((emails) => new Set(emails).size === emails.length, 'An address is listed twice.')
          .default([]),
        /** An existing SNS topic to notify instead of a new one (PagerDuty, Chatbot, …). */
        topicArn: topicArn.optional(),
        /** How old the oldest waiting job may get before the backlog alarm fires. */
        backlogAgeSeconds: z.int().min(60).max(1_209_600).default(1_200),
      })
      .default({ emails: [], backlogAgeSeconds: 1_200 }),
    api: z
      .strictObject({
        /**
         * The default stage's throttling: steady requests per second across the API, and the
         * burst above it. Callers past it get 429 (the ApiThrottles alarm counts them).
         */
        throttle: z
          .strictObject({
            rateLimit: z.int().min(1).max(100_000).default(API_THROTTLE.rateLimit),
            burstLimit: z.int().min(1).max(100_000).default(API_THROTTLE.burstLimit),
          })
          .refine((throttle) => throttle.burstLimit >= throttle.rateLimit, {
            message: 'throttle.burstLimit below rateLimit would refuse steady traffic: raise it.',
          })
          .default(API_THROTTLE),
      })
      .default({ throttle: API_THROTTLE }),
    /** A custom domain for the API, so the URL compiled into the app outlives the API. */
    domain: z
      .strictObject({
        name: z
          .string()
          .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'A domain name.'),
        /** An ACM certificate for that name, in the stack's region. */
        certificateArn,
      })
      .optional(),
    devices: z
      .strictObject({
        /**
         * The most devices a user's device set holds (`MAX_DEVICES_PER_USER`): a new one
         * makes the least recently seen leave. A set of 32 is about 7 KB: 2 read units per
         * send to that user (docs/decisions/device-sets.md); at most MOST_DEVICES_PER_USER
         * (an erase removes every device in one write, within DynamoDB's 4 KB expression limit).
         */
        maxPerUser: z.int().min(1).max(MOST_DEVICES_PER_USER).default(DEFAULT_MAX_DEVICES_PER_USER),
      })
      .default({ maxPerUser: DEFAULT_MAX_DEVICES_PER_USER }),
    sender: z
      .strictObject({
        /**
         * Sender invocations at once (the SQS event source's maximum concurrency, 2–1000).
         * The default leaves room on accounts whose concurrency quota is 10.
         */
        maxConcurrency: z.int().min(2).max(1000).default(SENDER.maxConcurrency),
        /** Reserved concurrency: guarantees the sender that many, and takes them from the account. */
        reservedConcurrency: z.int().min(2).optional(),
        /**
         * Stops the SQS event source: jobs wait on the send queue (it keeps them `SEND_QUEUE.retentionDays`) and go out
         * once it is deployed unpaused. For the upgrade to device sets (docs/deploy.md, "Upgrading
         * to device sets"): writers first, the backfill, then the sender reads the sets.
         */
        paused: z.boolean().default(false),
      })
      .refine(
        (sender) =>
          sender.reservedConcurrency === undefined || sender.reservedConcurrency >= sender.maxConcurrency,
        {
          message:
            'reservedConcurrency below maxConcurrency makes Lambda throttle the event source: raise it or lower maxConcurrency.',
        },
      )
      .default({ maxConcurrency: SENDER.maxConcurrency, paused: false }),
    /** Who else may put jobs on the send queue directly. */
    publishers: z
      .strictObject({
        /** Other AWS accounts (their IAM policies must allow sqs:SendMessage too). */
        accounts: z.array(z.string().regex(new RegExp(`^${account}$`), 'A 12-digit account id.')).default([]),
        /** SNS topics subscribed to the queue (turn on raw message delivery). */
        snsTopicArns: z.array(topicArn).default([]),
        /** EventBridge rules targeting the queue (their input must be the job JSON). */
        eventBridgeRuleArns: z.array(ruleArn).default([]),
      })
      .default({ accounts: [], snsTopicArns: [], eventBridgeRuleArns: [] }),
  })
  .superRefine((props, context) => {
    const cognito = props.auth.cognito;
    if (
      cognito !== undefined &&
      cognito.domainPrefix === undefined &&
      /aws|amazon|cognito/.test(props.name)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['auth', 'cognito', 'domainPrefix'],
        message: `The hosted UI's domain prefix would be "${props.name}-<account>", which Cognito refuses (aws, amazon, cognito): set auth.cognito.domainPrefix.`,
      });
    }
    const seen = new Map<string, string>();
    for (const [index, { appId }] of props.apps.entries()) {
      // CloudFormation ids keep letters and digits only: these two would share one.
      const key = appId.replace(/[^A-Za-z0-9]/g, '');
      const other = seen.get(key);
      if (other !== undefined) {
        context.addIssue({
          code: 'custom',
          path: ['apps', index, 'appId'],
          message:
            other === appId
              ? `The app ${appId} is configured twice.`
              : `The app ids ${other} and ${appId} differ only in punctuation, so their CloudFormation ids would collide; rename one.`,
        });
      }
      seen.set(key, appId);
    }
  });

/** What `new Pushgate(…)` takes. */
export type PushgateProps = z.input<typeof pushgatePropsSchema>;
/** The props with every default filled in. */
export type ResolvedPushgateProps = z.output<typeof pushgatePropsSchema>;
export type PushgateApp = z.output<typeof appSchema>;

export function resolvePushgateProps(props: PushgateProps): ResolvedPushgateProps {
  const parsed = pushgatePropsSchema.safeParse(props);
  if (!parsed.success) throw new Error(`Invalid pushgate configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The letters-and-digits form of an app id, unique among the configured apps (checked above). */
export function appIdKey(appId: string): string {
  return appId.replace(/[^A-Za-z0-9]/g, '');
}
