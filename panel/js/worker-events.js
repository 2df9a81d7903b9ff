/*
 * worker-events.js — the worker view's live stream (stream.js) wired to
 * the view: each event to the log and, by kind, to the conversation,
 * the status badge or the activity note; snapshots, reconnects and
 * diagnostics become lines in the conversation. Status events and
 * resyncs reload the detail so the badge is the runtime's truth.
 */
import { h, clear, badge } from './dom.js';
import { EventStream } from './stream.js';
import { short } from './worker-log.js';

const WORKER_STATUSES = new Set(['running', 'stopped', 'cancelled']);

const DIAG_WORDS = {
	'backend.upstream_reconnecting':
	    'wrg lost its connection to the runtime and is reconnecting.',
	'backend.resynced':
	    'The runtime no longer had the missed events; state reloaded.',
	'backend.runtime_unavailable': 'The runtime cannot be reached.',
	'backend.worker_not_found': 'This worker does not exist (any more).',
	'backend.runtime_not_found': 'This runtime is not configured.',
	'backend.slow_consumer':
	    'The panel fell too far behind the stream.',
	'backend.shutting_down': 'The event proxy is shutting down.',
	'backend.cursor_unknown_or_expired':
	    'The last position is too old; starting fresh.',
};

/* How loud each diagnostic is: passing trouble, news, or an error. */
const DIAG_KIND = {
	'backend.upstream_reconnecting': 'warn',
	'backend.runtime_unavailable': 'warn',
	'backend.shutting_down': 'warn',
	'backend.slow_consumer': 'warn',
	'backend.resynced': 'info',
	'backend.cursor_unknown_or_expired': 'info',
};

function stateLabel(state, info) {
	if (state === 'reconnecting' && info.inMs)
		return `reconnecting in ${Math.round(info.inMs / 100) / 10}s`;
	if (state === 'reconnecting' && info.upstream)
		return 'runtime reconnecting';
	return state;
}

/* The stream of one worker, not yet started (start(), stop()), and
 * the elements it keeps current (slot: the stream badge, activity: the
 * latest status or tick). ctx: { runtimeId, workerId }; v: the view's
 * parts { conv, log, status, detail, pager }. */
export function workerStream(ctx, v) {
	const slot = h('span', { id: 'stream-state', 'aria-live': 'polite' },
	    badge('connecting'));
	const activity = h('span', { class: 'muted', id: 'activity' });

	function onEvent(env) {
		v.log.add(env);
		const p = env.payload || {};
		const data = p.data && typeof p.data === 'object' ? p.data : {};
		switch (p.event) {
		case 'text_delta':
			v.conv.delta(String(data.text ?? ''));
			break;
		case 'text_done':
			v.conv.done(data.text);
			break;
		case 'status': {
			const s = String(data.status ?? '?');
			v.conv.line('status', `Status → ${s}`, { status: s });
			if (WORKER_STATUSES.has(s))
				v.status.set(s);
			else
				activity.textContent = s;
			v.detail.reloadSoon();
			break;
		}
		case 'transcript':
			/* An entry as the runtime recorded it: an input, or
			 * the reply just streamed. */
			v.conv.showEntry(data);
			v.detail.reloadSoon();
			break;
		case 'tick':
			activity.textContent = `tick ${data.n}`;
			break;
		default:
			v.conv.line('event', `${p.event ?? 'event'} ${short(data)}`);
		}
	}

	const stream = new EventStream(ctx.runtimeId, ctx.workerId, {
		onState(state, info) {
			const prev = slot.firstChild?.dataset.status;
			clear(slot).append(badge(state,
			    stateLabel(state, info)));
			if (state === 'reconnecting' && prev === 'live' &&
			    !info.upstream)
				v.conv.line('warn', 'Connection lost — reconnecting ' +
				    'from the last event seen…', { state });
			if (state === 'ended')
				v.conv.line('error', 'The stream has ended.', { state });
		},
		onSnapshot(env, { resumed, fresh }) {
			const s = env.payload?.data?.status;
			if (s)
				activity.textContent = String(s);
			v.conv.interrupt();
			/* A resumed stream replays its backlog instead. */
			if (!resumed)
				v.conv.showHistory(env.payload?.data?.entries);
			v.conv.line('info', fresh ? 'Fresh state from the runtime ' +
			    '— live events follow.' : resumed ?
			    'Reconnected — resumed after the last event seen.' :
			    'Connected — live events follow.',
			    { snapshot: fresh ? 'fresh' : resumed ? 'resumed' :
				'first' });
			if (resumed || fresh)
				v.detail.reloadSoon();
		},
		onEvent,
		onRecovered() {
			v.conv.line('info', 'The runtime is back — the stream ' +
			    'continues after the last event seen.',
			    { recovered: 'upstream' });
			v.detail.reloadSoon();
		},
		onDiagnostic(d) {
			const code = String(d.code ?? 'unknown');
			const words = DIAG_WORDS[code] || d.message || '';
			const kind = DIAG_KIND[code] || 'error';
			const li = v.conv.line(kind, words + ' ', { code });
			li.append(h('code', { class: 'errcode' }, code));
			if (kind === 'error' && stream.fatal)
				li.append(' ', h('button', { type: 'button',
				    class: 'btn small', onclick: () => stream.retry() },
				    'Retry'));
		},
		onResync() {
			v.conv.dropOpen();
			v.detail.load();
			v.pager.reload();
		},
	});

	return { slot, activity, start: () => stream.start(),
		stop: () => stream.stop() };
}
