/** A JSON answer from the API under test; `body` is loosely typed on purpose, tests assert its shape. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls the API with a JSON body (if any) and parses a JSON answer. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body };
}

/** HTTP Basic with a write key as the user name, as Segment's libraries send it. */
export const basicAuth = (writeKey: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
});
