/*
 * worker-pager.js — the worker view's Transcript panel: the transcript
 * paged with start/limit (GET .../transcript), PAGE items at a time.
 */
import { api, workerPath } from './api.js';
import { h, clear, errorBox } from './dom.js';

const PAGE = 20;

/* The panel (el); load(start) shows the page at start, reload() the
 * current one again; total() is the item count of the last answer.
 * ctx: { runtimeId, workerId, gone } (gone: the view was left). */
export function transcriptPager(ctx) {
	let tStart = 0, tTotal = 0;
	const list = h('ol', { class: 'transcript', id: 'transcript' });
	const info = h('span', { class: 'muted', id: 'transcript-info' });
	const prev = h('button', { type: 'button', class: 'btn small',
		onclick: () => load(Math.max(0, tStart - PAGE)) },
	    '‹ Previous');
	const next = h('button', { type: 'button', class: 'btn small',
		onclick: () => load(tStart + PAGE) }, 'Next ›');
	const err = h('div', {});
	const el = h('section', { class: 'panel', 'aria-label': 'Transcript' },
		h('div', { class: 'panel-head' }, h('h2', {}, 'Transcript'),
		    info),
		err, list, h('div', { class: 'pager' }, prev, next));

	function item(it) {
		return h('li', { class: `titem role-${it.role}`,
			dataset: { sequence: it.sequence } },
			h('span', { class: 'seq' }, `#${it.sequence}`),
			h('span', { class: 'role' }, it.role),
			h('span', { class: 'content' }, it.content));
	}

	async function load(start) {
		try {
			const r = await api('GET', workerPath(ctx.runtimeId,
			    ctx.workerId,
			    `/transcript?start=${start}&limit=${PAGE}`));
			if (ctx.gone)
				return;
			clear(err);
			const t = r.transcript || {};
			const items = Array.isArray(t.items) ? t.items : [];
			tStart = typeof t.start === 'number' ? t.start : start;
			tTotal = typeof t.total_items === 'number' ?
			    t.total_items : items.length;
			clear(list).append(...items.map(item));
			if (!items.length)
				list.append(h('li', { class: 'muted' },
				    'No transcript entries yet.'));
			info.textContent = tTotal ? `${tStart + 1}–${tStart +
			    items.length} of ${tTotal}` : '';
			prev.disabled = tStart <= 0;
			next.disabled = t.next_start === null ||
			    t.next_start === undefined;
		} catch (e) {
			if (!ctx.gone)
				clear(err).append(errorBox(
				    'Could not load the transcript.', e));
		}
	}

	return { el, load, reload: () => load(tStart), total: () => tTotal };
}
