import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';

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
    let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + 100);
    for (let round = 0; pending?.length && round < 8; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
      const result: BatchGetCommandOutput = await dynamo.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ...(consistentRead ? { ConsistentRead: true } : {}),
              ...(projection
                ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names }
                : {}),
            },
          },
        }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
    }
    if (pending?.length) throw new Error(`DynamoDB left ${pending.length} reads of ${tableName} unprocessed`);
  }
  return items;
}
