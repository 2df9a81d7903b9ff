/*
 * worker.js — one worker: its detail (GET .../workers/{id}), the live
 * event stream (stream.js) with text deltas assembled into messages, an
 * input box, Stop and Cancel, and the transcript paged with start/limit.
 * Status events and resyncs reload the detail so the badge is the
 * runtime's truth, not a guess.
 *
 * The conversation pane starts with the conversation so far: the
 * transcript entries the stream's first snapshot carries (inputs and
 * the worker's replies). Entries are keyed by their transcript sequence,
 * so history, live transcript events and a reply streamed as deltas are
 * each shown once.
 */
import { api, workerPath } from './api.js';
import { h, clear, badge, errorBox, fmtTime, intentText,
	profileText } from './dom.js';
import { EventStream } from './stream.js';

const PAGE = 20;
const LOG_MAX = 500;
const CONV_MAX = 400;
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

function short(v, n = 160) {
	let s;
	try { s = JSON.stringify(v); } catch { s = String(v); }
	if (s === undefined)
		s = '';
	return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function workerView(main, runtimeId, workerId) {
	let gone = false, status = null, openMsg = null, detailTimer = null;
	/* The newest reply streamed in full but not yet matched to its
	 * transcript entry; the highest transcript sequence shown. */
	let lastReply = null, lastSeq = 0;
	let tStart = 0, tTotal = 0, lastTick = null;
	/* What wrg says this runtime supports; unknown = allowed. */
	let caps = {};

	/* ---- header ---- */
	const title = h('h1', { class: 'mono wid' }, workerId);
	const statusSlot = h('span', { id: 'worker-status' }, badge('unknown',
	    '…'));
	const stopBtn = h('button', { type: 'button', class: 'btn',
		id: 'btn-stop', onclick: () => lifecycle('stop') }, 'Stop');
	const cancelBtn = h('button', { type: 'button', class: 'btn danger',
		id: 'btn-cancel', onclick: () => lifecycle('cancel') }, 'Cancel');
	const headErr = h('div', {});

	/* ---- live ---- */
	const streamSlot = h('span', { id: 'stream-state',
		'aria-live': 'polite' }, badge('connecting'));
	const activity = h('span', { class: 'muted', id: 'activity' });
	const conv = h('ol', { class: 'conversation', id: 'conversation',
		'aria-live': 'polite', 'aria-label': 'Live conversation' });
	const log = h('ol', { class: 'evlog', id: 'event-log' });
	const logCount = h('span', { class: 'muted' }, '0');
	const inputText = h('textarea', { id: 'input-text', rows: 2,
		placeholder: 'Message to the worker — Enter sends, ' +
		    'Shift+Enter for a new line', 'aria-label': 'Message' });
	const inputKind = h('select', { id: 'input-kind',
		'aria-label': 'Input kind' },
		h('option', { value: 'user' }, 'user'),
		h('option', { value: 'system' }, 'system'));
	const sendBtn = h('button', { type: 'submit', class: 'btn primary',
		id: 'btn-send' }, 'Send');
	const inputErr = h('div', { id: 'input-error' });
	inputText.addEventListener('keydown', (e) => {
		if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			form.requestSubmit();
		}
	});
	const form = h('form', { class: 'composer', id: 'composer',
		onsubmit: send }, inputText,
		h('div', { class: 'composer-tools' }, inputKind, sendBtn));

	/* ---- detail + transcript ---- */
	const detail = h('dl', { class: 'facts', id: 'worker-detail' });
	const detailErr = h('div', {});
	const tList = h('ol', { class: 'transcript', id: 'transcript' });
	const tInfo = h('span', { class: 'muted', id: 'transcript-info' });
	const tPrev = h('button', { type: 'button', class: 'btn small',
		onclick: () => loadTranscript(Math.max(0, tStart - PAGE)) },
	    '‹ Previous');
	const tNext = h('button', { type: 'button', class: 'btn small',
		onclick: () => loadTranscript(tStart + PAGE) }, 'Next ›');
	const tErr = h('div', {});

	main.append(h('section', { class: 'view' },
		h('div', { class: 'crumbs' },
			h('a', { href: '#/workers' }, '← Workers'), ' / ',
			h('a', { href: `#/workers?runtime=${encodeURIComponent(
			    runtimeId)}` }, runtimeId)),
		h('div', { class: 'view-head' },
			h('div', { class: 'title' }, title, statusSlot),
			h('div', { class: 'tools' }, stopBtn, cancelBtn)),
		headErr,
		h('div', { class: 'split' },
			h('section', { class: 'panel live', 'aria-label': 'Live' },
				h('div', { class: 'panel-head' },
					h('h2', {}, 'Live'), streamSlot, activity),
				conv, form, inputErr,
				h('details', { class: 'evlog-box' },
					h('summary', {}, 'Event log (', logCount, ')'),
					log)),
			h('div', { class: 'side' },
				h('section', { class: 'panel',
					'aria-label': 'Detail' },
					h('div', { class: 'panel-head' },
					    h('h2', {}, 'Detail')),
					detailErr, detail),
				h('section', { class: 'panel',
					'aria-label': 'Transcript' },
					h('div', { class: 'panel-head' },
						h('h2', {}, 'Transcript'), tInfo),
					tErr, tList,
					h('div', { class: 'pager' }, tPrev, tNext))))));

	/* ---- status ---- */
	function setStatus(s) {
		status = s;
		clear(statusSlot).append(badge(s));
		const running = s === 'running';
		const canSend = caps.send_input !== false;
		stopBtn.disabled = !running || caps.stop_worker === false;
		cancelBtn.disabled = !running || caps.cancel_worker === false;
		inputText.disabled = !running || !canSend;
		sendBtn.disabled = inputText.disabled;
		inputText.placeholder = !canSend ?
		    'This runtime does not take input through wrg.' :
		    running ? 'Message to the worker — ' +
		    'Enter sends, Shift+Enter for a new line' :
		    `The worker is ${s}; it takes no more input.`;
	}

	async function loadDetail() {
		try {
			const r = await api('GET', workerPath(runtimeId, workerId));
			if (gone)
				return;
			clear(detailErr);
			const w = r.worker || {};
			setStatus(w.status);
			const rows = [
				['Runtime', w.runtime_id],
				['Worker', w.worker_id],
				['Status', w.status],
				['Intent', intentText(w.intent)],
				['Profile', profileText(w.profile)],
				['Transcript', w.transcript_len],
				['Last event', w.last_event_id],
			];
			if (w.config_bundle)
				rows.push(['Config bundle', w.config_bundle.id]);
			for (const [k, label] of [['requested_capabilities',
			    'Capabilities'], ['workspace_refs', 'Workspaces'],
			    ['mount_refs', 'Mounts']])
				if (Array.isArray(w[k]) && w[k].length)
					rows.push([label, w[k].map((x) =>
					    x.name + (x.reference ? ` → ${x.reference}` :
					    '')).join(', ')]);
			clear(detail).append(...rows.flatMap(([k, v]) =>
			    [h('dt', {}, k), h('dd', {}, v ?? '—')]));
			if (typeof w.transcript_len === 'number' &&
			    w.transcript_len !== tTotal)
				loadTranscript(tStart);
		} catch (e) {
			if (!gone)
				clear(detailErr).append(errorBox(
				    'Could not load the worker.', e));
		}
	}

	function reloadDetailSoon() {
		clearTimeout(detailTimer);
		detailTimer = setTimeout(loadDetail, 150);
	}

	async function loadTranscript(start) {
		try {
			const r = await api('GET', workerPath(runtimeId, workerId,
			    `/transcript?start=${start}&limit=${PAGE}`));
			if (gone)
				return;
			clear(tErr);
			const t = r.transcript || {};
			const items = Array.isArray(t.items) ? t.items : [];
			tStart = typeof t.start === 'number' ? t.start : start;
			tTotal = typeof t.total_items === 'number' ?
			    t.total_items : items.length;
			clear(tList).append(...items.map((it) =>
			    h('li', { class: `titem role-${it.role}`,
				dataset: { sequence: it.sequence } },
				h('span', { class: 'seq' }, `#${it.sequence}`),
				h('span', { class: 'role' }, it.role),
				h('span', { class: 'content' }, it.content))));
			if (!items.length)
				tList.append(h('li', { class: 'muted' },
				    'No transcript entries yet.'));
			tInfo.textContent = tTotal ? `${tStart + 1}–${tStart +
			    items.length} of ${tTotal}` : '';
			tPrev.disabled = tStart <= 0;
			tNext.disabled = t.next_start === null ||
			    t.next_start === undefined;
		} catch (e) {
			if (!gone)
				clear(tErr).append(errorBox(
				    'Could not load the transcript.', e));
		}
	}

	/* ---- conversation ---- */
	function push(el) {
		const atBottom = conv.scrollHeight - conv.scrollTop -
		    conv.clientHeight < 40;
		conv.append(el);
		while (conv.children.length > CONV_MAX)
			conv.firstChild.remove();
		if (atBottom)
			conv.scrollTop = conv.scrollHeight;
		return el;
	}

	function line(kind, text, extra = {}) {
		return push(h('li', { class: `line line-${kind}`, dataset: extra },
		    h('time', {}, fmtTime()), ' ', text));
	}

	function bubble(role, text, extra = {}) {
		return push(h('li', { class: `msg msg-${role}`, dataset: extra },
		    h('span', { class: 'who' }, role === 'assistant' ? 'worker' :
		    role), h('span', { class: 'text' }, text)));
	}

	function bubbleOfSeq(seq) {
		return conv.querySelector(
		    `.msg[data-sequence="${CSS.escape(seq)}"]`);
	}

	/* One transcript entry ({sequence, role, content}) in the pane,
	 * once. A reply the runtime records after streaming it is the
	 * bubble the deltas built: that one takes the sequence. */
	function showEntry(e, extra = {}) {
		const seq = String(e.sequence ?? '');
		const text = String(e.content ?? '');
		const role = ['system', 'assistant'].includes(e.role) ?
		    e.role : 'user';
		if (Number(seq) > lastSeq)
			lastSeq = Number(seq);
		if (seq && bubbleOfSeq(seq))
			return;
		if (role === 'assistant' && lastReply &&
		    lastReply.querySelector('.text').textContent === text) {
			lastReply.dataset.sequence = seq;
			lastReply = null;
			return;
		}
		bubble(role, text, { sequence: seq, ...extra,
			...(role === 'assistant' ? { done: '1' } : {}) });
	}

	/* The conversation so far from a snapshot's entries: exactly what
	 * happened before the snapshot's cursor, so the live events after
	 * it never repeat an entry. Entries up to the newest shown are
	 * skipped (a fresh snapshot after a resync repeats older ones). */
	function showHistory(entries) {
		if (!Array.isArray(entries))
			return;
		const news = entries.filter((e) => e && typeof e === 'object' &&
		    !(Number(e.sequence) <= lastSeq));
		for (const e of news)
			showEntry(e, { history: '1' });
	}

	function logEvent(env) {
		const p = env.payload || {};
		const d = {
			eventId: env.event_id ?? '', event: p.event ?? '' };
		if (p.event === 'tick' && p.data && typeof p.data.n === 'number')
			d.tick = p.data.n;
		log.append(h('li', { dataset: d },
			h('code', {}, String(env.event_id ?? '')), ' ',
			h('b', {}, String(p.event ?? '?')), ' ', short(p.data, 120)));
		while (log.children.length > LOG_MAX)
			log.firstChild.remove();
		logCount.textContent = String(log.children.length);
	}

	function onEvent(env) {
		logEvent(env);
		const p = env.payload || {};
		const data = p.data && typeof p.data === 'object' ? p.data : {};
		switch (p.event) {
		case 'text_delta':
			if (!openMsg)
				openMsg = bubble('assistant', '', { streaming: '1' });
			openMsg.querySelector('.text').textContent +=
			    String(data.text ?? '');
			break;
		case 'text_done':
			if (!openMsg)
				openMsg = bubble('assistant', '');
			if (typeof data.text === 'string')
				openMsg.querySelector('.text').textContent = data.text;
			delete openMsg.dataset.streaming;
			openMsg.dataset.done = '1';
			lastReply = openMsg;
			openMsg = null;
			break;
		case 'status': {
			const s = String(data.status ?? '?');
			line('status', `Status → ${s}`, { status: s });
			if (WORKER_STATUSES.has(s))
				setStatus(s);
			else
				activity.textContent = s;
			reloadDetailSoon();
			break;
		}
		case 'transcript':
			/* An entry as the runtime recorded it: an input, or
			 * the reply just streamed. */
			showEntry(data);
			reloadDetailSoon();
			break;
		case 'tick':
			lastTick = data.n;
			activity.textContent = `tick ${lastTick}`;
			break;
		default:
			line('event', `${p.event ?? 'event'} ${short(data)}`);
		}
	}

	const stream = new EventStream(runtimeId, workerId, {
		onState(state, info) {
			const prev = streamSlot.firstChild?.dataset.status;
			let label = state;
			if (state === 'reconnecting' && info.inMs)
				label = `reconnecting in ${Math.round(info.inMs /
				    100) / 10}s`;
			else if (state === 'reconnecting' && info.upstream)
				label = 'runtime reconnecting';
			clear(streamSlot).append(badge(state, label));
			if (state === 'reconnecting' && prev === 'live' &&
			    !info.upstream)
				line('warn', 'Connection lost — reconnecting from ' +
				    'the last event seen…', { state });
			if (state === 'ended')
				line('error', 'The stream has ended.', { state });
		},
		onSnapshot(env, { resumed, fresh }) {
			const s = env.payload?.data?.status;
			if (s)
				activity.textContent = String(s);
			if (openMsg) {
				openMsg.dataset.interrupted = '1';
				openMsg = null;
			}
			lastReply = null;
			/* A resumed stream replays its backlog instead. */
			if (!resumed)
				showHistory(env.payload?.data?.entries);
			line('info', fresh ? 'Fresh state from the runtime — ' +
			    'live events follow.' : resumed ?
			    'Reconnected — resumed after the last event seen.' :
			    'Connected — live events follow.',
			    { snapshot: fresh ? 'fresh' : resumed ? 'resumed' :
				'first' });
			if (resumed || fresh)
				reloadDetailSoon();
		},
		onEvent,
		onRecovered() {
			line('info', 'The runtime is back — the stream continues ' +
			    'after the last event seen.', { recovered: 'upstream' });
			reloadDetailSoon();
		},
		onDiagnostic(d) {
			const code = String(d.code ?? 'unknown');
			const words = DIAG_WORDS[code] || d.message || '';
			const kind = DIAG_KIND[code] || 'error';
			const li = line(kind, words + ' ', { code });
			li.append(h('code', { class: 'errcode' }, code));
			if (kind === 'error' && stream.fatal)
				li.append(' ', h('button', { type: 'button',
				    class: 'btn small', onclick: () => stream.retry() },
				    'Retry'));
		},
		onResync() {
			openMsg = null;
			loadDetail();
			loadTranscript(tStart);
		},
	});

	/* ---- actions ---- */
	async function send(ev) {
		ev.preventDefault();
		const content = inputText.value;
		if (!content.trim())
			return;
		clear(inputErr);
		sendBtn.disabled = true;
		try {
			const r = await api('POST', workerPath(runtimeId, workerId,
			    '/input'), { kind: inputKind.value, content });
			if (gone)
				return;
			inputText.value = '';
			/* Usually the stream's transcript event has shown the
			 * input already; a runtime that sends none still gets
			 * it shown, once. */
			const seq = String(r.ack?.transcript_sequence ?? '');
			const kind = inputKind.value;
			setTimeout(() => {
				if (!gone)
					showEntry({ sequence: seq, role: kind,
						content });
			}, 1000);
			loadTranscript(tStart);
			reloadDetailSoon();
		} catch (e) {
			if (!gone)
				inputErr.append(errorBox('Could not send.', e));
		} finally {
			if (!gone) {
				sendBtn.disabled = inputText.disabled;
				inputText.focus();
			}
		}
	}

	async function lifecycle(what) {
		clear(headErr);
		stopBtn.disabled = cancelBtn.disabled = true;
		try {
			const r = await api('POST', workerPath(runtimeId, workerId,
			    `/${what}`), { reason: `${what} from the panel` });
			if (!gone && r.ack?.status)
				setStatus(r.ack.status);
		} catch (e) {
			if (!gone) {
				headErr.append(errorBox(what === 'stop' ?
				    'Could not stop the worker.' :
				    'Could not cancel the worker.', e));
				setStatus(status);
			}
		}
	}

	/* Capabilities only narrow what the buttons offer; a failure here
	 * changes nothing (the actions report their own errors). */
	api('GET', `/runtimes/${encodeURIComponent(runtimeId)}`).then((r) => {
		if (gone || !r.runtime?.capabilities)
			return;
		caps = r.runtime.capabilities;
		if (status)
			setStatus(status);
	}, () => {});
	loadDetail();
	loadTranscript(0);
	stream.start();
	return () => {
		gone = true;
		clearTimeout(detailTimer);
		stream.stop();
	};
}
