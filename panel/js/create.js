/*
 * create.js — the "new worker" form: POST /api/runtimes/{id}/workers with
 * an intent (assistant / task / role and its text) and a profile
 * (runtime default / builtin / named). On success it opens the worker.
 */
import { api, enc } from './api.js';
import { h, clear, errorBox } from './dom.js';

/* Which text fields each intent kind has; the first is required for task
 * and role. */
const INTENT_FIELDS = {
	task: [['objective', 'Objective', true]],
	assistant: [['purpose', 'Purpose', false]],
	role: [['role', 'Role', true], ['purpose', 'Purpose', false]],
};

export function createView(main, params) {
	let gone = false;
	const err = h('div', {});
	const rtSel = h('select', { id: 'new-runtime', name: 'runtime',
		required: true }, h('option', { value: '' }, 'loading…'));
	const kindSel = h('select', { id: 'new-intent-kind', name: 'kind',
		onchange: () => renderIntent() },
		['task', 'assistant', 'role'].map((k) =>
		    h('option', { value: k }, k)));
	const intentBox = h('div', { class: 'field-group' });
	const profSel = h('select', { id: 'new-profile-kind', onchange: () => {
		profVal.disabled = profSel.value === 'runtime_default';
		profVal.required = !profVal.disabled;
	} }, h('option', { value: 'runtime_default' }, 'runtime default'),
	    h('option', { value: 'builtin' }, 'builtin'),
	    h('option', { value: 'named' }, 'named'));
	const profVal = h('input', { id: 'new-profile-value', type: 'text',
		disabled: true, placeholder: 'e.g. builtin:coder',
		autocomplete: 'off' });
	const submit = h('button', { type: 'submit', class: 'btn primary',
		id: 'new-submit' }, 'Create worker');
	let fields = {};

	function renderIntent() {
		const old = Object.fromEntries(Object.entries(fields)
		    .map(([k, el]) => [k, el.value]));
		fields = {};
		clear(intentBox);
		for (const [name, label, req] of INTENT_FIELDS[kindSel.value]) {
			const id = `new-intent-${name}`;
			const el = name === 'objective' ?
			    h('textarea', { id, rows: 2, required: req }) :
			    h('input', { id, type: 'text', required: req,
				autocomplete: 'off' });
			el.value = old[name] || '';
			fields[name] = el;
			intentBox.append(h('div', { class: 'field' },
				h('label', { for: id }, label,
				    req ? '' : h('span', { class: 'muted' },
				    ' (optional)')), el));
		}
	}

	async function onSubmit(ev) {
		ev.preventDefault();
		clear(err);
		const rt = rtSel.value;
		if (!rt) {
			rtSel.focus();
			return;
		}
		const intent = { kind: kindSel.value };
		for (const [k, el] of Object.entries(fields))
			if (el.value.trim())
				intent[k] = el.value.trim();
		const profile = { kind: profSel.value };
		if (profSel.value !== 'runtime_default')
			profile.value = profVal.value.trim();
		submit.disabled = true;
		submit.textContent = 'Creating…';
		try {
			const r = await api('POST', `/runtimes/${enc(rt)}/workers`,
			    { intent, profile });
			const w = r.worker || {};
			if (!gone && w.worker_id)
				location.hash = `#/w/${enc(w.runtime_id || rt)}/` +
				    enc(w.worker_id);
		} catch (e) {
			if (!gone) {
				err.append(errorBox('Could not create the worker.', e));
				err.querySelector('[role=alert]')?.focus?.();
			}
		} finally {
			submit.disabled = false;
			submit.textContent = 'Create worker';
		}
	}

	async function loadRuntimes() {
		try {
			const r = await api('GET', '/runtimes');
			if (gone)
				return;
			const items = Array.isArray(r.items) ? r.items : [];
			clear(rtSel).append(h('option', { value: '' },
			    'choose a runtime'), ...items.map((i) => h('option', {
				value: i.runtime_id,
				disabled: i.capabilities?.create_worker === false },
				`${i.display_name || i.runtime_id}` +
				(i.status === 'available' ? '' : ` — ${i.status}`))));
			const want = params.get('runtime');
			if (want && items.some((i) => i.runtime_id === want))
				rtSel.value = want;
		} catch (e) {
			if (!gone) {
				clear(rtSel).append(h('option', { value: '' },
				    'runtimes unavailable'));
				err.append(errorBox('Could not load runtimes.', e));
			}
		}
	}

	renderIntent();
	const form = h('form', { class: 'panel form', id: 'new-worker',
		onsubmit: onSubmit },
		h('div', { class: 'field' },
			h('label', { for: 'new-runtime' }, 'Runtime'), rtSel),
		h('div', { class: 'field' },
			h('label', { for: 'new-intent-kind' }, 'Intent'), kindSel),
		intentBox,
		h('div', { class: 'field-row' },
			h('div', { class: 'field' },
				h('label', { for: 'new-profile-kind' }, 'Profile'),
				profSel),
			h('div', { class: 'field grow' },
				h('label', { for: 'new-profile-value' },
				    'Profile value'), profVal)),
		h('div', { class: 'actions' }, submit,
			h('a', { class: 'btn', href: '#/workers' }, 'Cancel')));
	main.append(h('section', { class: 'view narrow' },
		h('div', { class: 'view-head' }, h('h1', {}, 'New worker')),
		err, form));
	loadRuntimes();
	return () => { gone = true; };
}
