import type { ErrorBody } from './errors.ts';

/** What every acknowledgement carries: the response data, or an error with a stable code. */
export type Ack<T> = { data: T } | { error: ErrorBody };

export type AckCallback<T> = (response: Ack<T>) => void;

export function isAckError<T>(ack: Ack<T>): ack is { error: ErrorBody } {
  return typeof ack === 'object' && ack !== null && 'error' in ack;
}
