/*
 * workers.js — one list of workers across every runtime
 * (GET /api/workers), filterable by runtime and status. Runtimes that
 * failed to answer are named in a warning above the list: a partial list
 * never pretends to be complete.
 */
import { api, enc } from './api.js';
import { h, clear, badge, intentText } from './dom.js';
import { poller } from './poll.js';

const STATUSES = ['running', 'stopped', 'cancelled'];

export function workersView(main, params) {
	const want = { runtime: params.get('runtime') || '',
		status: params.get('status') || '' };
	let items = [], runtimes = [];

	const rtSel = h('select', { id: 'filter-runtime',
		onchange: () => setFilter('runtime', rtSel.value) });
	const stSel = h('select', { id: 'filter-status',
		onchange: () => setFilter('status', stSel.value) },
		h('option', { value: '' }, 'any status'),
		STATUSES.map((s) => h('option', { value: s }, s)));
	stSel.value = want.status;
	const status = h('span', { class: 'muted', 'aria-live': 'polite' },
	    'loading…');
	const err = h('div', {});
	const partial = h('div', { id: 'partial' });
	const body = h('tbody', {});
	const table = h('div', { class: 'table-wrap' },
		h('table', { class: 'workers', id: 'workers-table' },
			h('thead', {}, h('tr', {},
				h('th', { scope: 'col' }, 'Worker'),
				h('th', { scope: 'col' }, 'Runtime'),
				h('th', { scope: 'col' }, 'Status'),
				h('th', { scope: 'col', class: 'wide' }, 'Intent'),
				h('th', { scope: 'col', class: 'num' }, 'Transcript'),
				h('th', { scope: 'col', class: 'num wide' },
				    'Last event'))),
			body));
	const empty = h('p', { class: 'muted', hidden: true });
	const count = h('span', { class: 'muted', id: 'workers-count' });

	function setFilter(k, v) {
		want[k] = v;
		const q = new URLSearchParams();
		if (want.runtime)
			q.set('runtime', want.runtime);
		if (want.status)
			q.set('status', want.status);
		/* Keep the filter in the URL without reloading the view. */
		history.replaceState(null, '', `#/workers${q.size ? '?' + q : ''}`);
		render();
	}

	function renderRuntimeOptions() {
		const ids = new Set(runtimes.map((r) => r.runtime_id));
		for (const w of items)
			ids.add(w.runtime_id);
		if (want.runtime)
			ids.add(want.runtime);
		const names = new Map(runtimes.map((r) =>
		    [r.runtime_id, r.display_name || r.runtime_id]));
		clear(rtSel).append(h('option', { value: '' }, 'all runtimes'),
		    ...[...ids].sort().map((id) => h('option', { value: id },
			names.get(id) && names.get(id) !== id ?
			`${names.get(id)} (${id})` : id)));
		rtSel.value = want.runtime;
	}

	function render() {
		const rows = items.filter((w) =>
		    (!want.runtime || w.runtime_id === want.runtime) &&
		    (!want.status || w.status === want.status));
		clear(body).append(...rows.map((w) => {
			const href = `#/w/${enc(w.runtime_id)}/${enc(w.worker_id)}`;
			return h('tr', { dataset: { runtimeId: w.runtime_id,
				workerId: w.worker_id, status: w.status } },
				h('td', { class: 'mono' },
				    h('a', { href }, w.worker_id)),
				h('td', {}, w.runtime_id),
				h('td', {}, badge(w.status)),
				h('td', { class: 'wide clip' }, intentText(w.intent)),
				h('td', { class: 'num' }, w.transcript_len ?? '—'),
				h('td', { class: 'num wide' }, w.last_event_id ?? '—'));
		}));
		count.textContent = rows.length === items.length ?
		    `${items.length} worker${items.length === 1 ? '' : 's'}` :
		    `${rows.length} of ${items.length} workers`;
		empty.hidden = rows.length > 0;
		empty.textContent = items.length ?
		    'No worker matches these filters.' :
		    'No workers yet. Create one with “New worker”.';
	}

	async function load(isGone) {
		const [w, r] = await Promise.allSettled([
			api('GET', '/workers'), api('GET', '/runtimes')]);
		if (isGone())
			return;
		if (r.status === 'fulfilled' && Array.isArray(r.value.items))
			runtimes = r.value.items;
		if (w.status === 'rejected')
			throw w.reason;
		items = Array.isArray(w.value.items) ? w.value.items : [];
		const diags = Array.isArray(w.value.diagnostics) ?
		    w.value.diagnostics : [];
		clear(partial);
		if (diags.length)
			partial.append(h('div', { class: 'alert alert-warn',
				role: 'status' },
				h('strong', {}, 'Partial list: '),
				'workers of these runtimes are missing.',
				h('ul', { class: 'diags' }, diags.map((d) =>
				    h('li', { class: 'diag',
					dataset: { runtimeId: d.runtime_id || '',
						code: d.code || '' } },
					h('b', {}, d.runtime_id || '?'), ': ',
					d.message || '', ' ',
					h('code', { class: 'errcode' },
					    d.code || ''))))));
		renderRuntimeOptions();
		render();
	}
	const poll = poller(load, { status, err, what: 'workers' });

	renderRuntimeOptions();
	main.append(h('section', { class: 'view' },
		h('div', { class: 'view-head' },
			h('h1', {}, 'Workers'),
			h('div', { class: 'tools' }, status,
				h('a', { class: 'btn primary', href: want.runtime ?
				    `#/new?runtime=${enc(want.runtime)}`
				    : '#/new' }, 'New worker'))),
		h('div', { class: 'filters' },
			h('label', { for: 'filter-runtime' }, 'Runtime'), rtSel,
			h('label', { for: 'filter-status' }, 'Status'), stSel,
			count),
		err, partial, table, empty));
	poll.refresh();
	return () => poll.stop();
}
