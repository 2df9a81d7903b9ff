/*
 * stream.js — the observation socket of one worker, kept alive.
 *
 * The proxy sends one JSON object per frame: events (the first one on
 * every connection is a snapshot) and diagnostics. This class remembers
 * the cursor of the last event seen and, when the socket drops, reconnects
 * by itself with ?cursor= so the proxy replays exactly what was missed
 * (backoff 0.5 s doubling to 8 s). Event ids already delivered are
 * dropped, so a replay can never show an event twice. backend.resynced
 * and an expired cursor mean state was lost: the owner is told to reload.
 *
 * When the proxy itself lost the runtime (backend.upstream_reconnecting)
 * the browser socket stays open: the state reads reconnecting until the
 * next event arrives, which is reported as onRecovered().
 *
 * Handlers: onState(state, info) with state connecting | live |
 * reconnecting | ended (info.upstream when it is the proxy's leg);
 * onSnapshot(envelope, {resumed, fresh}); onEvent(envelope); onRecovered();
 * onDiagnostic(diag); onResync(diag).
 */
import { wsUrl, workerPath, enc } from './api.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 8000;
const SEEN_MAX = 20000;
/* After these the worker is gone for good: no point reconnecting. */
const FATAL = new Set(['backend.worker_not_found',
	'backend.runtime_not_found']);

export class EventStream {
	constructor(runtimeId, workerId, handlers) {
		this.rt = runtimeId;
		this.wid = workerId;
		this.h = handlers;
		this.cursor = null;
		this.seen = new Set();
		this.seenOrder = [];
		this.ws = null;
		this.attempt = 0;
		this.timer = null;
		this.closed = false;
		this.fatal = false;
		this.hadSnapshot = false;
		this.upstreamDown = false;
		this.resyncing = false;	/* next snapshot is a fresh start */
		this.dropped = 0;	/* duplicates suppressed, for the curious */
	}

	start() {
		this.connect();
	}

	stop() {
		this.closed = true;
		clearTimeout(this.timer);
		if (this.ws)
			this.ws.close(1000);
		this.ws = null;
	}

	/* Reconnect now (the user asked), resetting the backoff. */
	retry() {
		if (this.closed)
			return;
		this.fatal = false;
		this.attempt = 0;
		clearTimeout(this.timer);
		if (this.ws)
			this.ws.close(1000);
		else
			this.connect();
	}

	connect() {
		clearTimeout(this.timer);
		const q = this.cursor ? `?cursor=${enc(this.cursor)}` : '';
		let ws;
		try {
			ws = new WebSocket(wsUrl(workerPath(this.rt, this.wid,
			    '/events/ws')) + q);
		} catch {
			this.scheduleReconnect();
			return;
		}
		this.ws = ws;
		this.upstreamDown = false;
		this.h.onState(this.hadSnapshot ? 'reconnecting' : 'connecting',
		    { attempt: this.attempt, resuming: !!this.cursor });
		ws.onmessage = (m) => this.frame(m.data);
		ws.onclose = () => {
			if (this.ws !== ws)
				return;
			this.ws = null;
			if (this.closed)
				return;
			if (this.fatal) {
				this.h.onState('ended', {});
				return;
			}
			this.scheduleReconnect();
		};
	}

	scheduleReconnect() {
		const ms = Math.min(BACKOFF_MAX_MS,
		    BACKOFF_MIN_MS * 2 ** Math.min(this.attempt, 5));
		this.attempt++;
		this.h.onState('reconnecting', { inMs: ms,
			attempt: this.attempt, resuming: !!this.cursor });
		this.timer = setTimeout(() => this.connect(), ms);
	}

	remember(id) {
		this.seen.add(id);
		this.seenOrder.push(id);
		if (this.seenOrder.length > SEEN_MAX)
			this.seen.delete(this.seenOrder.shift());
	}

	frame(data) {
		let f;
		try {
			f = JSON.parse(data);
		} catch {
			this.h.onDiagnostic({ code: 'panel.bad_frame',
				message: 'The server sent a frame the panel ' +
				    'cannot read.' });
			return;
		}
		if (!f || typeof f !== 'object')
			return;
		if (f.kind === 'event' && f.envelope &&
		    typeof f.envelope === 'object') {
			this.event(f.envelope);
		} else if (f.kind === 'diagnostic') {
			this.diagnostic(f.diagnostic && typeof f.diagnostic ===
			    'object' ? f.diagnostic : { code: 'unknown' });
		}
	}

	event(env) {
		if (this.upstreamDown) {
			this.upstreamDown = false;
			this.h.onState('live', {});
			this.h.onRecovered();
		}
		const id = String(env.event_id ?? '');
		const snap = id.startsWith('snapshot:') ||
		    env.payload?.event === 'snapshot';
		if (snap) {
			/* A snapshot is taken "now"; the backlog that follows
			 * starts at our old cursor, so keep that one. */
			if (!this.cursor && env.cursor)
				this.cursor = env.cursor;
			const resumed = this.hadSnapshot && !this.resyncing;
			const fresh = this.resyncing;
			this.hadSnapshot = true;
			this.resyncing = false;
			this.attempt = 0;
			this.h.onState('live', {});
			this.h.onSnapshot(env, { resumed, fresh });
			return;
		}
		if (id && this.seen.has(id)) {
			this.dropped++;
			return;
		}
		if (id)
			this.remember(id);
		if (env.cursor)
			this.cursor = env.cursor;
		this.h.onEvent(env);
	}

	diagnostic(d) {
		switch (d.code) {
		case 'backend.upstream_reconnecting':
			this.upstreamDown = true;
			this.h.onState('reconnecting', { upstream: true });
			break;
		case 'backend.resynced':
			/* The old events are gone; a fresh snapshot follows
			 * and ids may restart. */
			this.resyncing = true;
			this.seen.clear();
			this.seenOrder = [];
			this.h.onResync(d);
			break;
		case 'backend.cursor_unknown_or_expired':
		case 'backend.cursor_malformed':
			this.cursor = null;
			this.resyncing = true;
			this.seen.clear();
			this.seenOrder = [];
			this.h.onResync(d);
			break;
		default:
			if (FATAL.has(d.code))
				this.fatal = true;
		}
		this.h.onDiagnostic(d);
	}
}
