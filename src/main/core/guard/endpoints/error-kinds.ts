/** The kinds of error the guard answers with, and the HTTP status of each whatever the protocol. */
export type ErrorKind =
  | 'context_length_exceeded'
  | 'overloaded'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'upstream_unavailable'
  | 'internal';

const STATUS: Readonly<Record<ErrorKind, number>> = {
  context_length_exceeded: 400,
  invalid_request: 400,
  payload_too_large: 413,
  overloaded: 503,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  upstream_unavailable: 502,
  internal: 500,
};

/** The HTTP status each kind of refusal is answered with, whatever the protocol. */
export const statusFor = (kind: ErrorKind): number => STATUS[kind];
