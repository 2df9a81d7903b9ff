/*
 * worker-log.js — the worker view's event log: every event of the
 * stream as one line (id, name, data cut short), newest LOG_MAX kept,
 * in a collapsible box so ticks do not drown the conversation.
 */
import { h } from './dom.js';

const LOG_MAX = 500;

/* JSON of v cut to n characters, for one line of text. */
export function short(v, n = 160) {
	let s;
	try { s = JSON.stringify(v); } catch { s = String(v); }
	if (s === undefined)
		s = '';
	return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/* The log box (el) and add(env) for each event envelope. */
export function eventLog() {
	const list = h('ol', { class: 'evlog', id: 'event-log' });
	const count = h('span', { class: 'muted' }, '0');
	const el = h('details', { class: 'evlog-box' },
		h('summary', {}, 'Event log (', count, ')'), list);

	function add(env) {
		const p = env.payload || {};
		const d = {
			eventId: env.event_id ?? '', event: p.event ?? '' };
		if (p.event === 'tick' && p.data && typeof p.data.n === 'number')
			d.tick = p.data.n;
		list.append(h('li', { dataset: d },
			h('code', {}, String(env.event_id ?? '')), ' ',
			h('b', {}, String(p.event ?? '?')), ' ', short(p.data, 120)));
		while (list.children.length > LOG_MAX)
			list.firstChild.remove();
		count.textContent = String(list.children.length);
	}

	return { el, add };
}
