import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { retryUnprocessed } from './retry-unprocessed';

/**
 * Reads many items by key, 100 per BatchGetItem, retrying what DynamoDB leaves
 * unprocessed with a growing pause; throws if some stay unprocessed. Missing items
 * are simply absent from the result. `consistentRead` reads every write acknowledged
 * before the call (twice the read units of an eventually consistent read).
 */
export async function batchGetAll(
  tableName: string,
  keys: readonly Record<string, unknown>[],
  projection?: { expression: string; names: Record<string, string> },
  consistentRead = false,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    await retryUnprocessed(
      keys.slice(start, start + 100),
      async (pending) => {
        const result: BatchGetCommandOutput = await dynamo.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: [...pending],
                ...(consistentRead ? { ConsistentRead: true } : {}),
                ...(projection
                  ? {
                      ProjectionExpression: projection.expression,
                      ExpressionAttributeNames: projection.names,
                    }
                  : {}),
              },
            },
          }),
        );
        items.push(...(result.Responses?.[tableName] ?? []));
        return result.UnprocessedKeys?.[tableName]?.Keys;
      },
      {
        attempts: 8,
        firstPauseMs: 25,
        failure: (undone) => `DynamoDB left ${undone} reads of ${tableName} unprocessed`,
      },
    );
  }
  return items;
}
