import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients, created once per execution environment and reused by every
 * invocation. Endpoints come from the SDK's own variables (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_SQS), which is how the offline stack and the tests point them at
 * dynalite and fauxqs.
 */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/**
 * Send requests to the resolved SQS endpoint, not to a queue URL's host: the same
 * host on AWS, and the only reachable one offline, where fauxqs names queues
 * `sqs.<region>.localhost`.
 */
export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
