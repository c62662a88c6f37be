/**
 * The body limit of both send routes (`POST /v1/notifications` and
 * `POST /v1/notification-batches`). Lambda refuses a synchronous event over 6 MB (6 291 456 bytes) before the function
 * runs, and API Gateway then answers with its own error, not ours. The event is the
 * body as a JSON string inside a ~2–12 KB envelope: every `"` and `\\` of the body is
 * escaped to two bytes, so a job gains 2 bytes per recipient (its quotes) — 100 KB
 * for 50 000. 5 MiB leaves 1 MiB for that and the envelope: 50 000 tokens (3.4 MB) or
 * 50 000 user ids of up to ~100 characters fit; larger bodies get our JSON 413.
 */
export const MAX_SEND_BODY_BYTES = 5 * 1024 * 1024;
