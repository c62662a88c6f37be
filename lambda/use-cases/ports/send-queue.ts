/** One message for the send queue. */
export interface OutgoingMessage {
  /** A JSON text; the queue adapter puts it on the queue as ASCII JSON. */
  body: string;
  delaySeconds?: number;
}

/** The send queue the sender consumes, and its dead-letter queue. */
export interface SendQueue {
  /** Puts every message on the send queue, batched within SQS's limits. */
  enqueue(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Moves a message to the dead-letter queue with the reason (`messageId` names the original when its body is cut). */
  deadLetter(body: string, reason: string, detail: string, messageId?: string): Promise<void>;
}
