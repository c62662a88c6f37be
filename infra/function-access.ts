/**
 * What each function's code may do to pushgate's data: the exact IAM actions on each
 * table, index, queue and secret. Plain data with no CDK in it, read by the stack
 * (infra/pushgate.ts turns it into each role's policy) and by offline mode
 * (local/function-grants.ts refuses, as AWS would, any call an invocation makes
 * beyond it) — so a call the code makes without a grant fails in the tests, not
 * first on AWS.
 *
 * The HTTP routes carry theirs in api-routes.ts; the sender's is SENDER_ACCESS below.
 * Grant only what the code calls: offline mode proves every path the tests take is
 * granted, and nothing checks that a grant is still used.
 */

export type DynamoDbAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

/** SQS authorizes the batch calls (SendMessageBatch, …) by their single-message action. */
export type SqsAction =
  | 'sqs:SendMessage'
  | 'sqs:ReceiveMessage'
  | 'sqs:DeleteMessage'
  | 'sqs:ChangeMessageVisibility'
  | 'sqs:GetQueueAttributes'
  | 'sqs:GetQueueUrl';

export type SecretsManagerAction = 'secretsmanager:GetSecretValue' | 'secretsmanager:DescribeSecret';

/** DynamoDB actions on the Devices table, on its `byUser` index and on its `byLiveActivity` index. */
export interface DevicesAccess {
  table?: readonly DynamoDbAction[];
  userIndex?: readonly DynamoDbAction[];
  liveActivityIndex?: readonly DynamoDbAction[];
}

export interface FunctionAccess {
  /** On the Devices table and each of its indexes (a grant on the table covers no index). */
  devices?: DevicesAccess;
  /** On the Notifications table. */
  notifications?: readonly DynamoDbAction[];
  /** On the send queue. */
  sendQueue?: readonly SqsAction[];
  /** On the send queue's dead-letter queue. */
  deadLetterQueue?: readonly SqsAction[];
  /** On each app's APNs (and FCM, when it has FCM) credentials secret; with it the function is told where the secrets are. */
  apnsCredentials?: readonly SecretsManagerAction[];
}

/**
 * What CDK's SQS event source grants the consuming function's role on its queue, for
 * the mapping's own polling — so the function's code may make these calls too.
 */
export const EVENT_SOURCE_QUEUE_ACTIONS: readonly SqsAction[] = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];

/** The sender (send queue → APNs), besides the send queue it consumes as an event source. */
export const SENDER_ACCESS: FunctionAccess = {
  devices: {
    // BatchGetItem: device sets and token records, read consistently (delivery/devices.ts);
    // DeleteItem + UpdateItem: prunes and environment corrections, record and set;
    // GetItem: a Live Activity token is read consistently before each send (live-activity-devices.ts).
    table: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
    liveActivityIndex: ['dynamodb:Query'],
  },
  notifications: [
    'dynamodb:UpdateItem',
    'dynamodb:BatchGetItem',
    // A tracked job published straight to the queue: its id and recipients, as the API records them (delivery/plan.ts);
    // the pages of a tracked chunk's outcomes that do not fit its progress record (tracking-table.ts).
    'dynamodb:PutItem',
    // The fleet's shared APNs provider token, read consistently (adapters/secondary/provider-token-table.ts).
    'dynamodb:GetItem',
  ],
  // Parts of split jobs, continuations, retries and re-push rounds.
  sendQueue: ['sqs:SendMessage'],
  // Jobs that cannot succeed, with their reason.
  deadLetterQueue: ['sqs:SendMessage'],
  apnsCredentials: ['secretsmanager:GetSecretValue'],
};
