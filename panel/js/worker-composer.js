/*
 * worker-composer.js — the worker view's input form: a message box
 * (Enter sends, Shift+Enter adds a line), its kind (user/system) and
 * Send, posting to .../input. Open only while the worker runs and the
 * runtime takes input.
 */
import { api, workerPath } from './api.js';
import { h, clear, errorBox } from './dom.js';

const HINT = 'Message to the worker — Enter sends, Shift+Enter for a ' +
    'new line';

/* The form (el) and its error slot (err); setStatus(s, canSend) opens
 * or closes it. ctx: { runtimeId, workerId, gone }; conv: the
 * conversation pane (a sent input is shown there once); onSent(): after
 * each accepted input. */
export function composer(ctx, conv, onSent) {
	const text = h('textarea', { id: 'input-text', rows: 2,
		placeholder: HINT, 'aria-label': 'Message' });
	const kind = h('select', { id: 'input-kind',
		'aria-label': 'Input kind' },
		h('option', { value: 'user' }, 'user'),
		h('option', { value: 'system' }, 'system'));
	const sendBtn = h('button', { type: 'submit', class: 'btn primary',
		id: 'btn-send' }, 'Send');
	const err = h('div', { id: 'input-error' });
	const el = h('form', { class: 'composer', id: 'composer',
		onsubmit: send }, text,
		h('div', { class: 'composer-tools' }, kind, sendBtn));
	text.addEventListener('keydown', (e) => {
		if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			el.requestSubmit();
		}
	});

	function setStatus(s, canSend) {
		const running = s === 'running';
		text.disabled = !running || !canSend;
		sendBtn.disabled = text.disabled;
		text.placeholder = !canSend ?
		    'This runtime does not take input through wrg.' :
		    running ? HINT :
		    `The worker is ${s}; it takes no more input.`;
	}

	async function send(ev) {
		ev.preventDefault();
		const content = text.value;
		if (!content.trim())
			return;
		clear(err);
		sendBtn.disabled = true;
		try {
			const r = await api('POST', workerPath(ctx.runtimeId,
			    ctx.workerId, '/input'),
			    { kind: kind.value, content });
			if (ctx.gone)
				return;
			text.value = '';
			/* Usually the stream's transcript event has shown the
			 * input already; a runtime that sends none still gets
			 * it shown, once. */
			const seq = String(r.ack?.transcript_sequence ?? '');
			const role = kind.value;
			setTimeout(() => {
				if (!ctx.gone)
					conv.showEntry({ sequence: seq, role,
						content });
			}, 1000);
			onSent();
		} catch (e) {
			if (!ctx.gone)
				err.append(errorBox('Could not send.', e));
		} finally {
			if (!ctx.gone) {
				sendBtn.disabled = text.disabled;
				text.focus();
			}
		}
	}

	return { el, err, setStatus };
}
