/*
 * api.js — the panel's only door to the server: fetch() against the
 * browser API (docs/api.md) and the URL of the observation socket.
 * Every failure becomes an ApiError with a code, so no caller can fail
 * silently: API errors keep the server's code, request id and runtime id;
 * a lost connection is "network_error", an answer without an API error
 * body is "http_<status>", a stalled request is "timeout".
 */

const PREFIX = (document.querySelector('meta[name="wrg-api-prefix"]')
	?.getAttribute('content') || '/api').replace(/\/+$/, '');
const TIMEOUT_MS = 30000;

export class ApiError extends Error {
	constructor(status, code, message, extra = {}) {
		super(message);
		this.status = status;
		this.code = code;
		this.runtimeId = extra.runtime_id || null;
		this.runtimeCode = extra.runtime_code || null;
		this.requestId = extra.request_id || null;
	}
}

export const enc = encodeURIComponent;

/* Calls METHOD PATH (path below the API prefix). Resolves with the parsed
 * JSON object of a 2xx answer, rejects with an ApiError otherwise. */
export async function api(method, path, body) {
	const ctl = new AbortController();
	const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
	const opts = { method, cache: 'no-store', signal: ctl.signal,
		headers: { Accept: 'application/json' } };
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	let res, text;
	try {
		res = await fetch(PREFIX + path, opts);
		text = await res.text();
	} catch (e) {
		if (ctl.signal.aborted)
			throw new ApiError(0, 'timeout',
			    'The server did not answer in time.');
		throw new ApiError(0, 'network_error',
		    'The panel could not reach the server.');
	} finally {
		clearTimeout(timer);
	}
	let data = null;
	if (text) {
		try { data = JSON.parse(text); } catch { data = null; }
	}
	const rid = res.headers.get('X-Request-Id');
	if (!res.ok) {
		const e = data && typeof data === 'object' ? data.error : null;
		if (e && typeof e.code === 'string')
			throw new ApiError(res.status, e.code,
			    typeof e.message === 'string' ? e.message : '',
			    { ...e, request_id: e.request_id || rid });
		throw new ApiError(res.status, 'http_' + res.status,
		    `The server answered HTTP ${res.status} without an API ` +
		    'error body.', { request_id: rid });
	}
	if (!data || typeof data !== 'object' || Array.isArray(data))
		throw new ApiError(res.status, 'bad_response',
		    'The server sent an answer the panel cannot read.',
		    { request_id: rid });
	return data;
}

/* ws:// or wss:// URL of an API path on the page's own host. */
export function wsUrl(path) {
	const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${scheme}//${location.host}${PREFIX}${path}`;
}

/* Paths of one worker, ids percent-encoded. */
export function workerPath(runtimeId, workerId, rest = '') {
	return `/runtimes/${enc(runtimeId)}/workers/${enc(workerId)}${rest}`;
}
