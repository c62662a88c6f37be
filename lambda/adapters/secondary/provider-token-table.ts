import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { ProviderToken, ProviderTokenStore } from './apns/provider-token';
import { NOTIFICATIONS_TABLE, providerTokenKey } from './notifications-keys';

/** A stored token outlives its usefulness (60 minutes) by an hour, then DynamoDB removes it. */
const KEEP_SECONDS = 2 * 3600;

/**
 * The fleet's provider tokens, one item per key in the Notifications table. Reads
 * are strongly consistent so a container that lost a renewal race sees the winner's
 * token; the write is conditional on the token it replaces, so only one renews.
 */
export const providerTokenTable: ProviderTokenStore = {
  async read(keyName) {
    const { Item } = await dynamo.send(
      new GetCommand({
        TableName: config.notificationsTableName,
        Key: providerTokenKey(keyName),
        ConsistentRead: true,
        ProjectionExpression: 'jwt, issuedAt',
      }),
    );
    if (typeof Item?.jwt !== 'string' || typeof Item.issuedAt !== 'number') return undefined;
    return { jwt: Item.jwt, issuedAt: Item.issuedAt };
  },

  async replace(keyName, next: ProviderToken, previous: ProviderToken | undefined) {
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: config.notificationsTableName,
          Key: providerTokenKey(keyName),
          UpdateExpression: 'SET jwt = :jwt, issuedAt = :issuedAt, #ttl = :ttl',
          ConditionExpression: previous === undefined ? 'attribute_not_exists(jwt)' : 'jwt = :previousJwt',
          ExpressionAttributeNames: { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':jwt': next.jwt,
            ':issuedAt': next.issuedAt,
            ':ttl': next.issuedAt + KEEP_SECONDS,
            ...(previous === undefined ? {} : { ':previousJwt': previous.jwt }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },
};
