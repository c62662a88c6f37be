/**
 * The `aps` keys APNs requires of a Live Activity push (push type `liveactivity`),
 * so offline tests fail the way real APNs would (docs/apns.md). Apple documents no
 * dedicated reason for these refusals; the simulator answers 400 with the reason
 * below, which pushgate classifies like any other rejected request (DLQ).
 */
export const LIVE_ACTIVITY_PAYLOAD_REASON = 'BadLiveActivityPayload';

/** Why APNs would refuse this Live Activity payload, or undefined when it would take it. */
export function liveActivityPayloadProblem(payload: unknown): string | undefined {
  const aps: unknown =
    typeof payload === 'object' && payload !== null ? Reflect.get(payload, 'aps') : undefined;
  if (typeof aps !== 'object' || aps === null) return 'a Live Activity push needs an "aps" dictionary';
  const has = (key: string) => Reflect.get(aps, key) !== undefined;
  const timestamp: unknown = Reflect.get(aps, 'timestamp');
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp))
    return '"aps.timestamp" (UNIX seconds) is required';
  const event: unknown = Reflect.get(aps, 'event');
  if (event !== 'start' && event !== 'update' && event !== 'end')
    return '"aps.event" is start, update or end';
  const required =
    event === 'start'
      ? ['attributes-type', 'attributes', 'content-state']
      : event === 'update'
        ? ['content-state']
        : [];
  const missing = required.find((key) => !has(key));
  return missing === undefined ? undefined : `"${event}" needs "aps.${missing}"`;
}
