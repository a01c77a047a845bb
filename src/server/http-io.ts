import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** An error the server answers as `{"error": {"status", "message"}}` with that status code. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: OutgoingHttpHeaders = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Bodies here are a few small fields; anything larger is not an export request. */
const MAX_BODY_BYTES = 64 * 1024;

export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    // Export state changes from one poll to the next: no cache may answer a poll.
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text); // node drops the body of a HEAD response by itself
}

/**
 * `{"error": {"status", "message"}}`, plus the status and message at the top level
 * (`status`, `error_description`), where the platform's Python client reads them: it takes the
 * status from the body, not the status line, to raise NotFoundError for a 404.
 */
export function sendError(res: ServerResponse, error: HttpError): void {
  const body = { error: { status: error.status, message: error.message }, status: error.status, error_description: error.message };
  sendJSON(res, error.status, body, error.headers);
}

/**
 * The request body parsed as JSON, or undefined when it is empty. 400 for text that is not
 * JSON, 413 past MAX_BODY_BYTES (the connection is then closed rather than drained).
 */
export async function readJSONBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw createTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.byteLength;
    if (size > MAX_BODY_BYTES) throw createTooLargeError();
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function createTooLargeError(): HttpError {
  return new HttpError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
}

/**
 * `text` with every occurrence of a private directory (the tables, data and temp directories)
 * replaced by its last name in angle brackets: messages shown to clients never reveal the
 * server's layout, whatever a lower layer put in them (issue #11).
 */
export function hidePaths(text: string, dirs: readonly string[]): string {
  let out = text;
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
    if (dir.length > 1) out = out.split(dir).join(`<${dir.split(/[\\/]/).filter(Boolean).pop() ?? 'dir'}>`);
  }
  return out;
}

const CHALLENGE = 'Bearer realm="tabular-export"';

/** 401 unless the request carries `Authorization: Bearer <token>` (no check when token is null). */
export function checkToken(req: IncomingMessage, token: string | null): void {
  if (token === null) return;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  if (!match) {
    throw new HttpError(401, 'this server needs a token: send "Authorization: Bearer <token>"', { 'WWW-Authenticate': CHALLENGE });
  }
  if (!isSameSecret(match[1], token)) {
    throw new HttpError(401, 'the bearer token is not valid', { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` });
  }
}

/** Compares digests of equal length in constant time, so the answer's timing tells nothing of the token. */
function isSameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
