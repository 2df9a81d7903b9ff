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
 *
 * This file only lays the view out and wires its parts, one module each:
 * worker-conv.js (conversation pane), worker-log.js (event log),
 * worker-composer.js (input form), worker-status.js (badge, Stop,
 * Cancel), worker-detail.js (Detail panel), worker-pager.js (Transcript
 * panel), worker-events.js (the stream and what each event does). They
 * share one ctx object; ctx.gone tells late answers the view was left.
 */
import { enc } from './api.js';
import { h } from './dom.js';
import { convPane } from './worker-conv.js';
import { eventLog } from './worker-log.js';
import { composer } from './worker-composer.js';
import { statusHead } from './worker-status.js';
import { detailPanel } from './worker-detail.js';
import { transcriptPager } from './worker-pager.js';
import { workerStream } from './worker-events.js';

export function workerView(main, runtimeId, workerId) {
	const ctx = { runtimeId, workerId, gone: false };
	const conv = convPane();
	const log = eventLog();
	const pager = transcriptPager(ctx);
	/* detail is bound below; a send can only happen once it is. */
	const form = composer(ctx, conv, () => {
		pager.reload();
		detail.reloadSoon();
	});
	const status = statusHead(ctx, form);
	const detail = detailPanel(ctx, status, pager);
	const stream = workerStream(ctx, { conv, log, status, detail, pager });

	main.append(h('section', { class: 'view' },
		h('div', { class: 'crumbs' },
			h('a', { href: '#/workers' }, '← Workers'), ' / ',
			h('a', { href: `#/workers?runtime=${enc(runtimeId)}` },
			    runtimeId)),
		h('div', { class: 'view-head' },
			h('div', { class: 'title' },
				h('h1', { class: 'mono wid' }, workerId),
				status.slot),
			h('div', { class: 'tools' }, ...status.tools)),
		status.err,
		h('div', { class: 'split' },
			h('section', { class: 'panel live', 'aria-label': 'Live' },
				h('div', { class: 'panel-head' },
					h('h2', {}, 'Live'), stream.slot,
					stream.activity),
				conv.el, form.el, form.err, log.el),
			h('div', { class: 'side' }, detail.el, pager.el))));

	status.loadCaps();
	detail.load();
	pager.load(0);
	stream.start();
	return () => {
		ctx.gone = true;
		detail.stop();
		stream.stop();
	};
}
