/*
 * worker-conv.js — the worker view's conversation pane: chat bubbles
 * (inputs and the worker's replies), one-line notes (status, stream
 * state, diagnostics), and the reply being streamed as text deltas.
 *
 * Entries are keyed by their transcript sequence, so history from the
 * snapshot, live transcript events and a reply streamed as deltas are
 * each shown once.
 */
import { h, fmtTime } from './dom.js';

const CONV_MAX = 400;

/* The pane (el) and what may be put in it. Its state (the open reply,
 * the last finished one, the highest sequence shown) lives here only. */
export function convPane() {
	/* The reply being streamed; the newest reply streamed in full but
	 * not yet matched to its transcript entry; the highest transcript
	 * sequence shown. */
	let openMsg = null, lastReply = null, lastSeq = 0;
	const el = h('ol', { class: 'conversation', id: 'conversation',
		'aria-live': 'polite', 'aria-label': 'Live conversation' });

	function push(li) {
		const atBottom = el.scrollHeight - el.scrollTop -
		    el.clientHeight < 40;
		el.append(li);
		while (el.children.length > CONV_MAX)
			el.firstChild.remove();
		if (atBottom)
			el.scrollTop = el.scrollHeight;
		return li;
	}

	function line(kind, text, extra = {}) {
		return push(h('li', { class: `line line-${kind}`, dataset: extra },
		    h('time', {}, fmtTime()), ' ', text));
	}

	function bubble(role, text, extra = {}) {
		return push(h('li', { class: `msg msg-${role}`, dataset: extra },
		    h('span', { class: 'who' }, role === 'assistant' ? 'worker' :
		    role), h('span', { class: 'text' }, text)));
	}

	function bubbleOfSeq(seq) {
		return el.querySelector(
		    `.msg[data-sequence="${CSS.escape(seq)}"]`);
	}

	/* One transcript entry ({sequence, role, content}) in the pane,
	 * once. A reply the runtime records after streaming it is the
	 * bubble the deltas built: that one takes the sequence. */
	function showEntry(e, extra = {}) {
		const seq = String(e.sequence ?? '');
		const text = String(e.content ?? '');
		const role = ['system', 'assistant'].includes(e.role) ?
		    e.role : 'user';
		if (Number(seq) > lastSeq)
			lastSeq = Number(seq);
		if (seq && bubbleOfSeq(seq))
			return;
		if (role === 'assistant' && lastReply &&
		    lastReply.querySelector('.text').textContent === text) {
			lastReply.dataset.sequence = seq;
			lastReply = null;
			return;
		}
		bubble(role, text, { sequence: seq, ...extra,
			...(role === 'assistant' ? { done: '1' } : {}) });
	}

	/* The conversation so far from a snapshot's entries: exactly what
	 * happened before the snapshot's cursor, so the live events after
	 * it never repeat an entry. Entries up to the newest shown are
	 * skipped (a fresh snapshot after a resync repeats older ones). */
	function showHistory(entries) {
		if (!Array.isArray(entries))
			return;
		const news = entries.filter((e) => e && typeof e === 'object' &&
		    !(Number(e.sequence) <= lastSeq));
		for (const e of news)
			showEntry(e, { history: '1' });
	}

	/* A text_delta: appended to the open reply (opened if none). */
	function delta(text) {
		if (!openMsg)
			openMsg = bubble('assistant', '', { streaming: '1' });
		openMsg.querySelector('.text').textContent += text;
	}

	/* A text_done: its text, when given, is the final one. */
	function done(text) {
		if (!openMsg)
			openMsg = bubble('assistant', '');
		if (typeof text === 'string')
			openMsg.querySelector('.text').textContent = text;
		delete openMsg.dataset.streaming;
		openMsg.dataset.done = '1';
		lastReply = openMsg;
		openMsg = null;
	}

	/* A new snapshot: a reply still open will never be finished. */
	function interrupt() {
		if (openMsg) {
			openMsg.dataset.interrupted = '1';
			openMsg = null;
		}
		lastReply = null;
	}

	/* A resync: the next delta starts a new reply. */
	function dropOpen() {
		openMsg = null;
	}

	return { el, line, showEntry, showHistory, delta, done, interrupt,
		dropOpen };
}
