/*
 * dom.js — small DOM helpers shared by the views. All text reaches the
 * page through textContent (never innerHTML), so nothing a runtime sends
 * can become markup.
 */

/* h('div', {class: 'x', onclick: fn}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else if (v === true)
			el.setAttribute(k, '');
		else
			el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

/* Tone of a status word, for the badge colour. */
const TONE = {
	available: 'ok', running: 'ok', live: 'ok',
	unreachable: 'bad', error: 'bad', ended: 'bad',
	unauthorized: 'warn', timeout: 'warn', reconnecting: 'warn',
	connecting: 'info', stopped: 'off', cancelled: 'off', idle: 'info',
};

export function badge(status, label) {
	const s = String(status ?? 'unknown');
	return h('span', { class: `badge tone-${TONE[s] || 'info'}`,
		dataset: { status: s } }, label ?? s);
}

/* Human words for an ApiError-like object: "message (code)". */
export function errorText(err) {
	const code = err.code || 'error';
	let msg = err.message || 'Something went wrong.';
	msg = msg.charAt(0).toUpperCase() + msg.slice(1);
	if (err.runtimeCode)
		msg += ` [runtime code: ${err.runtimeCode}]`;
	return { code, msg, requestId: err.requestId || null };
}

/* An inline error box for a failed load or action. */
export function errorBox(what, err) {
	const t = errorText(err);
	return h('div', { class: 'alert alert-error', role: 'alert',
		dataset: { code: t.code } },
		h('strong', {}, what), ' ', t.msg, ' ',
		h('code', { class: 'errcode' }, t.code),
		t.requestId ? h('span', { class: 'reqid' },
		    ` request ${t.requestId}`) : null);
}

/* A dismissable alert at the top of the page; keeps the newest five. */
export function notify(what, err) {
	const box = document.getElementById('alerts');
	const el = errorBox(what, err);
	el.appendChild(h('button', { type: 'button', class: 'dismiss',
		'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
	box.prepend(el);
	while (box.children.length > 5)
		box.lastChild.remove();
	return el;
}

export function clearAlerts() {
	clear(document.getElementById('alerts'));
}

export function fmtTime(d = new Date()) {
	return d.toLocaleTimeString([], { hour12: false });
}

/* One-line text of an intent object. */
export function intentText(intent) {
	if (!intent || typeof intent !== 'object')
		return '—';
	const t = intent.objective || intent.role || intent.purpose || '';
	return t ? `${intent.kind}: ${t}` : String(intent.kind || '—');
}

export function profileText(p) {
	if (!p || typeof p !== 'object')
		return '—';
	return p.value ? `${p.kind} (${p.value})` : String(p.kind || '—');
}
