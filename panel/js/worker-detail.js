/*
 * worker-detail.js — the worker view's Detail panel
 * (GET .../workers/{id}). Each load also sets the status badge, so it
 * is the runtime's truth, not a guess, and refreshes the transcript page
 * when the transcript grew.
 */
import { api, workerPath } from './api.js';
import { h, clear, errorBox, intentText, profileText } from './dom.js';

const REFS = [['requested_capabilities', 'Capabilities'],
	['workspace_refs', 'Workspaces'], ['mount_refs', 'Mounts']];

function rowsOf(w) {
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
	for (const [k, label] of REFS)
		if (Array.isArray(w[k]) && w[k].length)
			rows.push([label, w[k].map((x) => x.name +
			    (x.reference ? ` → ${x.reference}` : '')).join(', ')]);
	return rows;
}

/* The panel (el); load() now, reloadSoon() after a short pause (events
 * come in bursts), stop() drops a pending reload. ctx: { runtimeId,
 * workerId, gone }; status: the header; pager: the transcript panel. */
export function detailPanel(ctx, status, pager) {
	let timer = null;
	const dl = h('dl', { class: 'facts', id: 'worker-detail' });
	const err = h('div', {});
	const el = h('section', { class: 'panel', 'aria-label': 'Detail' },
		h('div', { class: 'panel-head' }, h('h2', {}, 'Detail')),
		err, dl);

	async function load() {
		try {
			const r = await api('GET', workerPath(ctx.runtimeId,
			    ctx.workerId));
			if (ctx.gone)
				return;
			clear(err);
			const w = r.worker || {};
			status.set(w.status);
			clear(dl).append(...rowsOf(w).flatMap(([k, v]) =>
			    [h('dt', {}, k), h('dd', {}, v ?? '—')]));
			if (typeof w.transcript_len === 'number' &&
			    w.transcript_len !== pager.total())
				pager.reload();
		} catch (e) {
			if (!ctx.gone)
				clear(err).append(errorBox(
				    'Could not load the worker.', e));
		}
	}

	function reloadSoon() {
		clearTimeout(timer);
		timer = setTimeout(load, 150);
	}

	return { el, load, reloadSoon, stop: () => clearTimeout(timer) };
}
