import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './http-io.js';

/**
 * What a browser could make a server on this machine do (issue #11): any web page can send a
 * "simple" cross-origin POST (text/plain, no preflight), and a DNS-rebinding page can read
 * answers once its own host name points at 127.0.0.1. So: request bodies must be JSON (a
 * content type a page can only send after a CORS preflight, which this server never grants),
 * a request carrying an Origin must come from an allowed one, and a server without a token
 * answers only requests addressed to a loopback name.
 */
export interface GuardOptions {
  /** Origins (scheme://host[:port]) a browser page may call from; none by default (the server serves no page of its own). */
  allowedOrigins: readonly string[];
  /** Without a token, only a Host of a loopback name (localhost, 127.x.x.x, ::1) is answered. */
  tokenless: boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1']);

/** True for a name or address of this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** The host name of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), or null when malformed. */
function hostNameOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return match ? match[1] : null;
}

/** Throws 403 or 415 for a request a browser page could have forged; returns otherwise. */
export function checkRequestOrigin(req: IncomingMessage, options: GuardOptions): void {
  if (options.tokenless) {
    const host = hostNameOf(req.headers.host);
    if (host === null || !isLoopbackHost(host)) {
      throw new HttpError(403, `this server has no token, so it answers only requests to a loopback name (localhost, 127.0.0.1, [::1]), not to "${req.headers.host ?? ''}"`);
    }
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    throw new HttpError(403, `requests from the web origin ${origin} are not allowed (serve --allow-origin adds one)`);
  }
  if (req.method === 'POST' && hasBody(req) && !isJSON(req.headers['content-type'])) {
    throw new HttpError(415, `the request body must be JSON: send "Content-Type: application/json", not "${req.headers['content-type'] ?? 'none'}"`);
  }
}


function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function isJSON(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}
