/*
 * poll.js — the auto-refresh loop the list views share: load now, then
 * every REFRESH_MS while the view is shown; never two loads at once; no
 * polling in a background tab; a failure is shown with its code, never
 * swallowed.
 */
import { clear, errorBox, fmtTime } from './dom.js';

export const REFRESH_MS = 3000;

/*
 * step(isGone) fetches and renders, and may throw; after each await it
 * returns early when isGone() is true (the view was left). ui.status
 * gets "updated/failed HH:MM:SS", ui.err the error box titled
 * "Could not load <ui.what>.". Returns { refresh, stop }.
 */
export function poller(step, ui) {
	let timer = null, gone = false, busy = false;
	const isGone = () => gone;

	async function tick() {
		if (busy)
			return;
		clearTimeout(timer);
		if (document.hidden) {
			timer = setTimeout(tick, REFRESH_MS);
			return;
		}
		busy = true;
		try {
			await step(isGone);
			if (!gone) {
				clear(ui.err);
				ui.status.textContent = `updated ${fmtTime()}`;
			}
		} catch (e) {
			if (!gone) {
				clear(ui.err).append(errorBox(
				    `Could not load ${ui.what}.`, e));
				ui.status.textContent = `failed ${fmtTime()}`;
			}
		} finally {
			busy = false;
			if (!gone)
				timer = setTimeout(tick, REFRESH_MS);
		}
	}

	return { refresh: tick, stop() { gone = true; clearTimeout(timer); } };
}
