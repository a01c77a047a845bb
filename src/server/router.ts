import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-io.js';

/** The base path of every route (issue #6). */
export const API_BASE = '/api/v1';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, percent-decoded (`:ref` → params.ref). */
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below API_BASE, e.g. `/tables/:ref/exports`. */
  path: string;
  handle(ctx: RequestContext): Promise<void>;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
  query: URLSearchParams;
}

/**
 * Finds the route of a request: 404 for an unknown path, 405 (with Allow) for a known path
 * and another method. GET routes answer HEAD too. The path is split on "/" as sent, before
 * any decoding, so an encoded "%2F" or "%2e%2e" stays inside one parameter and a literal
 * "../" simply matches no route; parameters are never used to build a file path anyway.
 */
export function matchRoute(routes: readonly Route[], method: string, url: string): Match {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const query = new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
  if (path !== API_BASE && !path.startsWith(`${API_BASE}/`)) throw createNotFound(path);
  const segments = path.slice(API_BASE.length + 1).split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchSegments(route.path.slice(1).split('/'), segments);
    if (!params) continue;
    if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { route, params, query };
    allowed.push(route.method === 'GET' ? 'GET, HEAD' : route.method);
  }
  if (allowed.length > 0) {
    throw new HttpError(405, `${method} is not allowed on ${path}; use ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  }
  throw createNotFound(path);
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i];
    const actual = segments[i];
    if (expected.startsWith(':')) {
      if (actual === '') return null;
      params[expected.slice(1)] = decodeSegment(actual);
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `the path segment "${segment}" is not valid percent-encoding`);
  }
}

function createNotFound(path: string): HttpError {
  return new HttpError(404, `no such resource: ${path}`);
}
