/*
 * runtimes.js — the runtimes view: one card per registry runtime with its
 * status, worker counts, capabilities and diagnostics, from
 * GET /api/runtimes, refreshed every few seconds while shown.
 */
import { api, enc } from './api.js';
import { h, clear, badge } from './dom.js';
import { poller } from './poll.js';

const CAPS = [['list_workers', 'list'], ['get_worker', 'get'],
	['create_worker', 'create'], ['send_input', 'input'],
	['stop_worker', 'stop'], ['cancel_worker', 'cancel'],
	['read_transcript', 'transcript'], ['stream_events', 'events']];

function diagList(diags) {
	if (!Array.isArray(diags) || !diags.length)
		return null;
	return h('ul', { class: 'diags' }, diags.map((d) =>
		h('li', { class: `diag sev-${d.severity || 'info'}`,
			dataset: { code: d.code || '' } },
			h('span', { class: 'sev' }, d.severity || 'info'), ' ',
			d.message || '', ' ',
			h('code', { class: 'errcode' }, d.code || ''))));
}

function count(label, n) {
	return h('div', { class: 'count' },
		h('span', { class: 'n' }, n ?? '—'),
		h('span', { class: 'label' }, label));
}

function card(rt) {
	const s = rt.summary || {};
	const caps = rt.capabilities || {};
	const missing = CAPS.filter(([k]) => caps[k] === false)
	    .map(([, w]) => w);
	const src = rt.source || {};
	const up = rt.status === 'available';
	return h('article', { class: `card runtime status-${rt.status}`,
		dataset: { runtimeId: rt.runtime_id, status: rt.status },
		'aria-label': `Runtime ${rt.display_name || rt.runtime_id}` },
		h('header', { class: 'card-head' },
			h('div', {},
				h('h2', {}, rt.display_name || rt.runtime_id),
				h('div', { class: 'sub mono' }, rt.runtime_id)),
			badge(rt.status)),
		h('div', { class: 'counts' },
			count('workers', up ? s.worker_count : null),
			count('active', up ? s.active_worker_count : null),
			count('stopped', up ? s.stopped_worker_count : null),
			count('cancelled', up ? s.cancelled_worker_count : null)),
		h('dl', { class: 'facts' },
			h('dt', {}, 'Source'),
			h('dd', {}, `${src.kind || '?'} · ${src.transport || '?'}`),
			up ? [h('dt', {}, 'Backend'),
				h('dd', {}, `${s.backend || '?'} · ${s.status || '?'}`)]
			    : null,
			h('dt', {}, 'Capabilities'),
			h('dd', {}, missing.length ? `all but ${missing.join(', ')}`
			    : 'all',
			    caps.max_transcript_items ?
			    ` · transcript pages ≤ ${caps.max_transcript_items}` :
			    '')),
		diagList(rt.diagnostics),
		h('footer', { class: 'card-actions' },
			h('a', { class: 'btn', href:
			    `#/workers?runtime=${enc(rt.runtime_id)}` },
			    'Workers'),
			caps.create_worker !== false ? h('a', { class: 'btn primary',
				href: `#/new?runtime=${enc(rt.runtime_id)}` },
			    'New worker') : null));
}

export function runtimesView(main) {
	const status = h('span', { class: 'muted', 'aria-live': 'polite' },
	    'loading…');
	const err = h('div', {});
	const grid = h('div', { class: 'cards', id: 'runtime-cards' });
	const extra = h('div', {});
	async function load(isGone) {
		const r = await api('GET', '/runtimes');
		if (isGone())
			return;
		const items = Array.isArray(r.items) ? r.items : [];
		clear(grid).append(...items.map(card));
		if (!items.length)
			grid.append(h('p', { class: 'muted' },
			    'No runtimes are configured.'));
		const known = new Set(items.map((i) => i.runtime_id));
		const loose = (r.diagnostics || []).filter(
		    (d) => !known.has(d.runtime_id));
		clear(extra).append(diagList(loose) || '');
	}
	const poll = poller(load, { status, err, what: 'runtimes' });

	main.append(h('section', { class: 'view' },
		h('div', { class: 'view-head' },
			h('h1', {}, 'Runtimes'),
			h('div', { class: 'tools' }, status,
				h('button', { type: 'button', class: 'btn',
					onclick: () => poll.refresh() },
				    'Refresh'))),
		err, grid, extra));
	poll.refresh();
	return () => poll.stop();
}
