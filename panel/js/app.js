/*
 * app.js — the panel's entry point: a hash router over four views.
 *   #/runtimes              every registry runtime, refreshed on its own
 *   #/workers?runtime=&status=   one list across runtimes
 *   #/new?runtime=          create a worker
 *   #/w/RUNTIME/WORKER      one worker: detail, transcript, live stream
 * A view is a function (main, params) returning a cleanup function that
 * the router calls when the user leaves (timers, sockets).
 */
import { clear, clearAlerts } from './dom.js';
import { runtimesView } from './runtimes.js';
import { workersView } from './workers.js';
import { createView } from './create.js';
import { workerView } from './worker.js';

let cleanup = null;

function parse() {
	const raw = location.hash.replace(/^#/, '') || '/runtimes';
	const [path, query] = raw.split('?', 2);
	const parts = path.split('/').filter(Boolean).map((p) => {
		try { return decodeURIComponent(p); } catch { return p; }
	});
	return { parts, params: new URLSearchParams(query || '') };
}

function route() {
	if (cleanup) {
		try { cleanup(); } catch (e) { console.error(e); }
		cleanup = null;
	}
	clearAlerts();
	const main = clear(document.getElementById('main'));
	const { parts, params } = parse();
	let nav = parts[0] || 'runtimes';
	let view;
	if (parts[0] === 'w' && parts.length === 3) {
		nav = 'workers';
		view = () => workerView(main, parts[1], parts[2]);
	} else if (parts[0] === 'workers') {
		view = () => workersView(main, params);
	} else if (parts[0] === 'new') {
		view = () => createView(main, params);
	} else {
		nav = 'runtimes';
		view = () => runtimesView(main, params);
	}
	for (const a of document.querySelectorAll('nav a[data-nav]')) {
		if (a.dataset.nav === nav)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	cleanup = view() || null;
}

window.addEventListener('hashchange', route);
route();
