/*
 * worker-status.js — the worker view's header: the status badge, Stop
 * and Cancel (POST .../stop, .../cancel). The badge shows what the
 * runtime last said; what the runtime supports (its capabilities) only
 * narrows what the buttons and the input form offer.
 */
import { api, workerPath, enc } from './api.js';
import { h, clear, badge, errorBox } from './dom.js';

/* The header pieces (slot: the badge, tools: the buttons, err: their
 * error slot); set(s) takes a new status, loadCaps() asks wrg what the
 * runtime supports. ctx: { runtimeId, workerId, gone }; form: the input
 * form, opened or closed with the status. */
export function statusHead(ctx, form) {
	let status = null;
	/* What wrg says this runtime supports; unknown = allowed. */
	let caps = {};
	const slot = h('span', { id: 'worker-status' },
	    badge('unknown', '…'));
	const stopBtn = h('button', { type: 'button', class: 'btn',
		id: 'btn-stop', onclick: () => lifecycle('stop') }, 'Stop');
	const cancelBtn = h('button', { type: 'button', class: 'btn danger',
		id: 'btn-cancel', onclick: () => lifecycle('cancel') }, 'Cancel');
	const err = h('div', {});

	function set(s) {
		status = s;
		clear(slot).append(badge(s));
		const running = s === 'running';
		stopBtn.disabled = !running || caps.stop_worker === false;
		cancelBtn.disabled = !running || caps.cancel_worker === false;
		form.setStatus(s, caps.send_input !== false);
	}

	async function lifecycle(what) {
		clear(err);
		stopBtn.disabled = cancelBtn.disabled = true;
		try {
			const r = await api('POST', workerPath(ctx.runtimeId,
			    ctx.workerId, `/${what}`),
			    { reason: `${what} from the panel` });
			if (!ctx.gone && r.ack?.status)
				set(r.ack.status);
		} catch (e) {
			if (!ctx.gone) {
				err.append(errorBox(what === 'stop' ?
				    'Could not stop the worker.' :
				    'Could not cancel the worker.', e));
				set(status);
			}
		}
	}

	/* A failure here changes nothing (the actions report their own
	 * errors). */
	function loadCaps() {
		api('GET', `/runtimes/${enc(ctx.runtimeId)}`).then((r) => {
			if (ctx.gone || !r.runtime?.capabilities)
				return;
			caps = r.runtime.capabilities;
			if (status)
				set(status);
		}, () => {});
	}

	return { slot, tools: [stopBtn, cancelBtn], err, set, loadCaps };
}
