/** The useful part of a fetch() failure: the socket error code (ECONNREFUSED, …), else the message. */
export function fetchErrorText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; errors?: Array<{ code?: string }>; message?: string } };
  return err.cause?.code ?? err.cause?.errors?.find((x) => x.code)?.code ?? err.cause?.message ?? err.message;
}
