/*
 * tests/browser/panel.test.mjs — the panel driven in Debian's chromium
 * through npm playwright-core (no browser download), against a real stack
 * started by scripts/stack.sh (run by panel.sh, which passes STACK_ENV and
 * ARTIFACTS). Prints "ok - NAME" / "not ok - NAME" per check; panel.sh
 * counts them. Exit status is 0 when the script reached its end (failed
 * checks are counted, not thrown), non-zero when it crashed.
 *
 * Story: both runtimes available -> create a worker on alpha (TCP+token)
 * -> input, echo streamed live -> the worker opened again shows the
 * conversation so far, then each message once -> a worker on beta (Unix
 * socket): input, echo, Stop, status change -> alpha frozen (SIGSTOP):
 * the stream badge says reconnecting until SIGCONT, then live -> alpha
 * killed (SIGKILL): badge reconnecting, marked unreachable,
 * partial worker list, create on alpha shows a coded error, beta keeps
 * working -> alpha restarted with the same arguments: the open worker
 * view reconnects by itself, no event twice, no tick lost -> Stop.
 * Throughout, every byte the browser sees (DOM, responses, headers, WS
 * frames, console) is kept and scanned for runtime URLs, ports, socket
 * paths and the token.
 */
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

const T = 20000;	/* default bound for one wait, ms */

/* ---- setup ---------------------------------------------------------- */

const env = Object.fromEntries(fs.readFileSync(process.env.STACK_ENV,
    'utf8').split('\n').filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const URL0 = env.STACK_URL;
const ART = process.env.ARTIFACTS;
const token = fs.readFileSync(env.STACK_TOKEN_FILE, 'utf8').trim();

let passes = 0, fails = 0;
function check(name, ok, detail) {
	if (ok) {
		passes++;
		console.log(`ok - ${name}`);
	} else {
		fails++;
		console.log(`not ok - ${name}${detail ? ` — ${detail}` : ''}`);
	}
	return !!ok;
}

/* Runs one step; an exception is a failed check, not the end of the run. */
async function step(name, fn) {
	try {
		const r = await fn();
		return check(name, r !== false && r !== 0);
	} catch (e) {
		return check(name, false, String(e.message || e).split('\n')[0]);
	}
}

/* Everything the browser saw, for the leak scan. */
const seen = [];
const frames = [];	/* {url, payload, label} of every received WS frame */
const restBodies = [];	/* bodies of /api/ answers */
const pending = [];
const SKIP_HEADERS = new Set(['content-length', 'etag', 'last-modified',
	'date']);

function watch(page, label) {
	page.on('console', (m) => seen.push(`console ${label}: ${m.text()}`));
	page.on('pageerror', (e) => {
		seen.push(`pageerror ${label}: ${e.message}`);
		console.log(`# ${label} page error: ${e.message}`);
	});
	page.on('response', (r) => {
		const hs = Object.entries(r.headers())
		    .filter(([k]) => !SKIP_HEADERS.has(k))
		    .map(([k, v]) => `${k}: ${v}`).join('\n');
		seen.push(`response ${r.status()} ${r.url()}\n${hs}`);
		const api = new URL(r.url()).pathname.startsWith('/api/');
		pending.push(r.text().then((b) => {
			seen.push(b);
			if (api)
				restBodies.push(b);
		}, () => {}));
	});
	page.on('websocket', (ws) => {
		seen.push(`websocket ${ws.url()}`);
		ws.on('framereceived', (f) => {
			const p = String(f.payload);
			seen.push(p);
			frames.push({ url: ws.url(), payload: p, label });
		});
		ws.on('framesent', (f) => seen.push(String(f.payload)));
	});
}

async function snapshotDom(page) {
	seen.push(await page.content());
	seen.push(await page.evaluate(() => document.body.innerText));
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(ART, name), fullPage: true });
	console.log(`# screenshot ${path.join(ART, name)}`);
}

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync',
		'--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1280,
	height: 860 } });
const pa = await ctx.newPage();	/* alpha worker, open all along */
const pb = await ctx.newPage();	/* runtimes, beta, the rest */
watch(pa, 'A');
watch(pb, 'B');

const sel = {
	runtime: (id, st) => `article.runtime[data-runtime-id="${id}"]` +
	    (st ? `[data-status="${st}"]` : ''),
	workerStatus: (st) => `#worker-status [data-status="${st}"]`,
	stream: (st) => `#stream-state [data-status="${st}"]`,
};

/* Creates a worker through the form; returns its id from the URL. */
async function createWorker(page, rt, objective) {
	await page.goto(`${URL0}#/new?runtime=${rt}`);
	await page.waitForFunction((r) =>
	    document.querySelector('#new-runtime')?.value === r, rt,
	    { timeout: T });
	await page.fill('#new-intent-objective', objective);
	await page.click('#new-submit');
	await page.waitForFunction((r) =>
	    location.hash.startsWith(`#/w/${r}/`), rt, { timeout: T });
	const id = decodeURIComponent(
	    new URL(page.url()).hash.split('/')[3]);
	await page.waitForSelector(sel.workerStatus('running'),
	    { timeout: T });
	await page.waitForSelector(sel.stream('live'), { timeout: T });
	return id;
}

/* Types a message with the keyboard (Enter sends) and waits until the
 * echoed reply is complete; returns how many text_delta events the event
 * log gained (the reply was assembled from them). */
async function sayAndHear(page, text) {
	const deltas = () => page.locator(
	    '#event-log li[data-event="text_delta"]').count();
	const before = await deltas();
	await page.focus('#input-text');
	await page.keyboard.type(text);
	await page.keyboard.press('Enter');
	await page.locator('.msg-assistant[data-done] .text',
	    { hasText: `echo: ${text}` }).first().waitFor({ timeout: T });
	return (await deltas()) - before;
}

async function exactEchoCount(page, text) {
	return page.$$eval('.msg-assistant[data-done] .text', (els, t) =>
	    els.filter((e) => e.textContent === t).length, `echo: ${text}`);
}

/* The conversation pane as [who, text] pairs, in order. */
async function conversation(page) {
	return page.$$eval('#conversation .msg', (els) => els.map((e) =>
	    [e.classList.contains('msg-assistant') ? 'worker' : 'user',
		e.querySelector('.text')?.textContent ?? '']));
}

/* How often [who, text] is in the conversation pane. */
function times(conv, who, text) {
	return conv.filter(([w, t]) => w === who && t === text).length;
}

/* ---- 1: runtimes ---------------------------------------------------- */

await step('runtimes view shows alpha and beta available', async () => {
	await pb.goto(URL0);
	await pb.waitForSelector(sel.runtime('alpha', 'available'),
	    { timeout: T });
	await pb.waitForSelector(sel.runtime('beta', 'available'),
	    { timeout: T });
});
await step('runtime cards show source and worker counts', async () => {
	const a = await pb.locator(sel.runtime('alpha')).innerText();
	const b = await pb.locator(sel.runtime('beta')).innerText();
	return /remote · http/.test(a) && /local · unix/.test(b) &&
	    /workers/.test(a) && /active/.test(b);
});

/* ---- 2: a worker on alpha, input, live echo ------------------------- */

let w1 = null;
await step('create a worker on alpha from the form', async () => {
	w1 = await createWorker(pa, 'alpha', 'say hello back');
	return /\S/.test(w1);
});
await step('input sent with the keyboard is echoed live, assembled ' +
    'from text deltas', async () => {
	const n = await sayAndHear(pa, 'hello from the browser');
	await pa.locator('.msg-user .text',
	    { hasText: 'hello from the browser' }).first().waitFor(
	    { timeout: T });
	return n >= 1 && await exactEchoCount(pa,
	    'hello from the browser') === 1;
});
await step('the transcript lists the input', async () => {
	await pa.locator('#transcript .content',
	    { hasText: 'hello from the browser' }).first().waitFor(
	    { timeout: T });
});
await step('the live stream shows ticks', async () => {
	await pa.waitForSelector('#event-log li[data-event="tick"]',
	    { state: 'attached', timeout: T });
});

/* ---- 2b: reopening a worker shows the conversation so far ----------- */

await step('opening a worker shows the conversation so far: the input ' +
    'and the worker\'s reply, in order, once', async () => {
	await pb.goto(`${URL0}#/w/alpha/${encodeURIComponent(w1)}`);
	await pb.waitForSelector(sel.stream('live'), { timeout: T });
	await pb.locator('#conversation .msg-assistant .text',
	    { hasText: 'echo: hello from the browser' }).first().waitFor(
	    { timeout: T });
	const c = await conversation(pb);
	return check(`  (history ${JSON.stringify(c)})`,
	    JSON.stringify(c) === JSON.stringify([
		['user', 'hello from the browser'],
		['worker', 'echo: hello from the browser']]));
});
await step('live events after the history show every message once',
    async () => {
	await sayAndHear(pb, 'said after reopening');
	await pb.waitForTimeout(1500);	/* the reply's transcript event */
	const c = await conversation(pb);
	return check(`  (conversation ${JSON.stringify(c)})`,
	    times(c, 'user', 'hello from the browser') === 1 &&
	    times(c, 'worker', 'echo: hello from the browser') === 1 &&
	    times(c, 'user', 'said after reopening') === 1 &&
	    times(c, 'worker', 'echo: said after reopening') === 1 &&
	    c.length === 4);
});
await step('the transcript holds the worker\'s replies too', async () => {
	await pb.locator('#transcript .role-assistant .content',
	    { hasText: 'echo: said after reopening' }).first().waitFor(
	    { timeout: T });
});
await pa.evaluate(() => { document.querySelector('.evlog-box').open = true; });
await step('screenshot of the runtimes view', async () => {
	await pb.goto(`${URL0}#/runtimes`);
	await pb.waitForSelector(sel.runtime('alpha', 'available'),
	    { timeout: T });
	await pb.waitForFunction(() => document.querySelector(
	    'article.runtime[data-runtime-id="alpha"] .count .n')
	    ?.textContent !== '—', null, { timeout: T });
	await shot(pb, 'runtimes.png');
});
await step('screenshot of a worker view', async () => {
	await shot(pa, 'worker.png');
});
await snapshotDom(pa);

/* ---- 3: a worker on beta: input, Stop -------------------------------- */

let w2 = null;
await step('create a worker on beta (Unix socket runtime)', async () => {
	w2 = await createWorker(pb, 'beta', 'stop me');
});
await step('beta worker echoes input', async () =>
    await sayAndHear(pb, 'hi beta') >= 1);
await step('Stop changes the status to stopped, shown in the live ' +
    'stream', async () => {
	await pb.click('#btn-stop');
	await pb.waitForSelector(sel.workerStatus('stopped'), { timeout: T });
	await pb.waitForSelector('.line-status[data-status="stopped"]',
	    { timeout: T });
	return await pb.isDisabled('#btn-stop') &&
	    await pb.isDisabled('#input-text');
});
await step('workers list filters by runtime and status', async () => {
	await pb.goto(`${URL0}#/workers`);
	await pb.waitForSelector(`tr[data-worker-id="${w1}"]`, { timeout: T });
	await pb.waitForSelector(`tr[data-worker-id="${w2}"]`, { timeout: T });
	await pb.selectOption('#filter-status', 'stopped');
	const rows = await pb.$$eval('#workers-table tbody tr', (trs) =>
	    trs.map((t) => t.dataset.status));
	await pb.selectOption('#filter-status', '');
	await pb.selectOption('#filter-runtime', 'alpha');
	const rts = await pb.$$eval('#workers-table tbody tr', (trs) =>
	    trs.map((t) => t.dataset.runtimeId));
	await pb.selectOption('#filter-runtime', '');
	return rows.length >= 1 && rows.every((s) => s === 'stopped') &&
	    rts.length >= 1 && rts.every((r) => r === 'alpha');
});
await snapshotDom(pb);

/* ---- 3b: alpha frozen (SIGSTOP: no FIN, no RST, a partition) --------- */

const pidFile = path.join(env.STACK_DIR, 'pids', 'alpha.pid');
const alphaPid = Number(fs.readFileSync(pidFile, 'utf8'));
const tickCount = () => pa.locator('#event-log li[data-event="tick"]')
    .count();
await step('alpha frozen (SIGSTOP): the live badge says reconnecting',
    async () => {
	await pa.waitForSelector(sel.stream('live'), { timeout: T });
	process.kill(alphaPid, 'SIGSTOP');
	/* ping_interval_s 2 (panel.sh): dropped after ~4 s of silence */
	await pa.waitForSelector(sel.stream('reconnecting'), { timeout: T });
});
await step('the badge stays reconnecting while alpha is frozen',
    async () => {
	const seen = new Set();
	for (let i = 0; i < 8; i++) {
		seen.add(await pa.$eval('#stream-state [data-status]',
		    (b) => b.dataset.status));
		await pa.waitForTimeout(500);
	}
	return check(`  (badge states: ${[...seen].join(', ')})`,
	    seen.size === 1 && seen.has('reconnecting'));
});
const ticksBeforeThaw = await tickCount();
await step('alpha thawed (SIGCONT): the badge says live again and ticks ' +
    'continue', async () => {
	process.kill(alphaPid, 'SIGCONT');
	await pa.waitForSelector(sel.stream('live'), { timeout: 30000 });
	await pa.waitForFunction((n) => document.querySelectorAll(
	    '#event-log li[data-event="tick"]').length >= n + 2,
	    ticksBeforeThaw, { timeout: T });
});

/* ---- 4: alpha dies ----------------------------------------------------- */

const ticksBeforeKill = await tickCount();
await step('kill runtime alpha (SIGKILL)', async () => {
	process.kill(alphaPid, 'SIGKILL');
});
await step('the live badge says reconnecting while alpha is dead',
    async () => {
	await pa.waitForSelector(sel.stream('reconnecting'), { timeout: T });
});
await step('runtimes view marks alpha unreachable, beta stays available',
    async () => {
	await pb.goto(`${URL0}#/runtimes`);
	await pb.waitForSelector(sel.runtime('alpha', 'unreachable'),
	    { timeout: T });
	await pb.waitForSelector(sel.runtime('beta', 'available'),
	    { timeout: 2000 });
	await pb.waitForSelector(`${sel.runtime('alpha')} .diag`,
	    { timeout: T });
});
await step('screenshot of the runtimes view with alpha down', async () => {
	await shot(pb, 'runtimes-alpha-down.png');
});
await step('worker view says the stream is interrupted', async () => {
	await pa.waitForFunction(() =>
	    document.querySelector('#stream-state [data-status="reconnecting"]')
	    || document.querySelector('.line[data-code^="backend."]'),
	    null, { timeout: T });
});
await step('workers list shows the partial failure for alpha', async () => {
	await pb.goto(`${URL0}#/workers`);
	await pb.waitForSelector('#partial .diag[data-runtime-id="alpha"]',
	    { timeout: T });
	await pb.waitForSelector(`tr[data-worker-id="${w2}"]`, { timeout: T });
	await shot(pb, 'workers-partial.png');
});
await step('creating a worker on alpha shows the error with its code',
    async () => {
	await pb.goto(`${URL0}#/new?runtime=alpha`);
	await pb.waitForFunction(() =>
	    document.querySelector('#new-runtime')?.value === 'alpha',
	    null, { timeout: T });
	await pb.fill('#new-intent-objective', 'doomed');
	await pb.click('#new-submit');
	const box = pb.locator('.alert-error[data-code]').first();
	await box.waitFor({ timeout: T });
	const code = await box.getAttribute('data-code');
	const text = await box.innerText();
	console.log(`# error shown: ${text.replace(/\s+/g, ' ')}`);
	await shot(pb, 'create-error.png');
	return /^runtime_(unreachable|timeout)$/.test(code) &&
	    text.includes(code);
});
await snapshotDom(pb);
let w3 = null;
await step('beta keeps working while alpha is down', async () => {
	w3 = await createWorker(pb, 'beta', 'still here');
	return await sayAndHear(pb, 'beta still works') >= 1;
});
await step('Cancel changes the status to cancelled', async () => {
	await pb.click('#btn-cancel');
	await pb.waitForSelector(sel.workerStatus('cancelled'), { timeout: T });
});
await snapshotDom(pa);

/* ---- 5: alpha comes back ----------------------------------------------- */

await step('restart alpha with the same arguments', async () => {
	const child = spawn('bash', [path.join(env.STACK_DIR, 'bin',
	    'run-alpha.sh')], { detached: true, stdio: 'ignore' });
	child.unref();
	await pb.goto(`${URL0}#/runtimes`);
	await pb.waitForSelector(sel.runtime('alpha', 'available'),
	    { timeout: 30000 });
});
await step('the worker view reconnects by itself and says so', async () => {
	await pa.waitForSelector(sel.stream('live'), { timeout: 30000 });
	await pa.waitForFunction(() => document.querySelector(
	    '.line[data-snapshot="resumed"]') || document.querySelector(
	    '.line[data-recovered]') ||
	    document.querySelector('.line[data-code="backend.resynced"]'),
	    null, { timeout: 30000 });
});
await step('ticks continue after the restart', async () => {
	await pa.waitForFunction((n) => document.querySelectorAll(
	    '#event-log li[data-event="tick"]').length >= n + 3,
	    ticksBeforeKill, { timeout: 30000 });
});
await step('input after the restart is echoed exactly once', async () => {
	await sayAndHear(pa, 'after the restart');
	await pa.waitForTimeout(1500);
	return await exactEchoCount(pa, 'after the restart') === 1 &&
	    await exactEchoCount(pa, 'hello from the browser') === 1;
});
/* ---- 5b: the browser's own socket drops (wrg-wsproxy restarted) ------- */

const resumedBefore = await pa.locator('.line[data-snapshot="resumed"]')
    .count();
const ticksBeforeProxy = await pa.locator(
    '#event-log li[data-event="tick"]').count();
await step('stop wrg-wsproxy: the worker view says the connection is lost',
    async () => {
	const pid = Number(fs.readFileSync(path.join(env.STACK_DIR, 'pids',
	    'wsproxy.pid'), 'utf8'));
	process.kill(pid, 'SIGTERM');
	await pa.waitForSelector('.line[data-state="reconnecting"]',
	    { timeout: T });
	await pa.waitForSelector(sel.stream('reconnecting'), { timeout: T });
});
await pa.waitForTimeout(2500);	/* ticks pile up at the runtime meanwhile */
await step('restart wrg-wsproxy: the view resumes from its cursor by ' +
    'itself and says so', async () => {
	const child = spawn('bash', [path.join(env.STACK_DIR, 'bin',
	    'run-wsproxy.sh')], { detached: true, stdio: 'ignore' });
	child.unref();
	await pa.waitForFunction((n) => document.querySelectorAll(
	    '.line[data-snapshot="resumed"]').length > n, resumedBefore,
	    { timeout: 30000 });
	await pa.waitForSelector(sel.stream('live'), { timeout: T });
	/* The ticks of the gap came from the backlog: no gap, checked
	 * below with the rest. */
	await pa.waitForFunction((n) => document.querySelectorAll(
	    '#event-log li[data-event="tick"]').length >= n + 4,
	    ticksBeforeProxy, { timeout: T });
	const wsUrls = frames.map((f) => f.url).filter((u) =>
	    u.includes(`/runtimes/alpha/workers/${encodeURIComponent(w1)}/`));
	return check('  (the reconnect carried ?cursor=)',
	    wsUrls.some((u) => /[?&]cursor=wo_/.test(u)));
});

await step('no event shown twice, no tick lost (panel event log)',
    async () => {
	const log = await pa.$$eval('#event-log li', (lis) => lis.map((l) =>
	    ({ id: l.dataset.eventId, tick: l.dataset.tick })));
	const ids = log.map((l) => l.id);
	const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
	const ticks = log.filter((l) => l.tick !== undefined)
	    .map((l) => Number(l.tick));
	const gaps = ticks.filter((t, i) => i > 0 && t !== ticks[i - 1] + 1);
	console.log(`# ${ids.length} events, ticks ${ticks[0]}..` +
	    `${ticks[ticks.length - 1]}`);
	return check('  (no duplicate event ids)', dup.length === 0,
	    dup.slice(0, 5).join(',')) &
	    check('  (ticks consecutive)', gaps.length === 0,
	    `after ${gaps.slice(0, 5).join(',')}: ${ticks.join(' ')}`);
});
await step('no event sent twice on the wire (all sockets of the worker)',
    async () => {
	const ids = [];
	for (const f of frames) {
		/* page B watched the same worker for a while (2b) */
		if (f.label !== 'A' || !f.url.includes(
		    `/runtimes/alpha/workers/${encodeURIComponent(w1)}/`))
			continue;
		let j;
		try { j = JSON.parse(f.payload); } catch { continue; }
		const id = j?.envelope?.event_id;
		if (j.kind === 'event' && id && !String(id).startsWith('snapshot:'))
			ids.push(id);
	}
	const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
	return check(`  (wire ids unique: ${ids.length} events)`,
	    ids.length > 10 && dup.length === 0,
	    `${dup.length} repeats: ${dup.slice(0, 5).join(',')}`);
});
/* ---- 5c: transcript pages ------------------------------------------------ */

await step('the transcript is paged with start/limit (20 a page)',
    async () => {
	/* 21 more inputs through the API itself (same origin, as the page). */
	for (let i = 1; i <= 21; i++) {
		const r = await pa.request.post(`${URL0}api/runtimes/alpha/` +
		    `workers/${encodeURIComponent(w1)}/input`,
		    { data: { kind: 'user', content: `page filler ${i}` } });
		if (r.status() !== 200)
			throw new Error(`input ${i}: HTTP ${r.status()}`);
	}
	await pa.reload();
	await pa.waitForSelector(sel.stream('live'), { timeout: T });
	/* inputs and replies: 2 entries per input, 20+ inputs */
	await pa.waitForFunction(() => /^1–20 of [4-9][0-9]$/.test(
	    document.querySelector('#transcript-info')?.textContent || ''),
	    null, { timeout: T });
	const first = await pa.locator('#transcript li').count();
	await pa.getByRole('button', { name: 'Next ›' }).click();
	await pa.waitForFunction(() => /^21–40 of [4-9][0-9]$/.test(
	    document.querySelector('#transcript-info')?.textContent || ''),
	    null, { timeout: T });
	const seq = await pa.$eval('#transcript li', (l) => l.dataset.sequence);
	await pa.getByRole('button', { name: '‹ Previous' }).click();
	await pa.waitForFunction(() => /^1–20 /.test(
	    document.querySelector('#transcript-info')?.textContent || ''),
	    null, { timeout: T });
	return first === 20 && seq === '21';
});

/* ---- 5d: resume impossible -> state reloaded ------------------------------ */

await step('events lost while disconnected: the view says so, reloads ' +
    'and goes on live', async () => {
	const before = await pa.locator('#transcript-info').textContent();
	const pid = Number(fs.readFileSync(path.join(env.STACK_DIR, 'pids',
	    'wsproxy.pid'), 'utf8'));
	process.kill(pid, 'SIGTERM');
	await pa.waitForSelector(sel.stream('reconnecting'), { timeout: T });
	/* More events than the runtime retains (1024), and one more input:
	 * the panel's cursor is gone from the runtime's window. */
	const base = `http://127.0.0.1:${env.STACK_ALPHA_PORT}`;
	const auth = { Authorization: `Bearer ${token}`,
		'Content-Type': 'application/json' };
	let r = await fetch(`${base}/_control/emit`, { method: 'POST',
		headers: auth, body: JSON.stringify({ worker_id: w1,
		    count: 1100 }) });
	if (!r.ok)
		throw new Error(`emit: HTTP ${r.status}`);
	r = await fetch(`${base}/v1/workers/${encodeURIComponent(w1)}/input`,
	    { method: 'POST', headers: auth, body: JSON.stringify(
	    { kind: 'user', content: 'said while away' }) });
	if (!r.ok)
		throw new Error(`input: HTTP ${r.status}`);
	const child = spawn('bash', [path.join(env.STACK_DIR, 'bin',
	    'run-wsproxy.sh')], { detached: true, stdio: 'ignore' });
	child.unref();
	await pa.waitForSelector('.line[data-code="backend.resynced"], ' +
	    '.line[data-code="backend.cursor_unknown_or_expired"]',
	    { timeout: 30000 });
	await pa.waitForSelector('.line[data-snapshot="fresh"]',
	    { timeout: 30000 });
	await pa.waitForSelector(sel.stream('live'), { timeout: 30000 });
	/* Reloaded: the transcript now counts the input sent while away. */
	await pa.waitForFunction((b) => {
		const t = document.querySelector('#transcript-info')
		    ?.textContent || '';
		return t !== b && / of /.test(t);
	}, before, { timeout: T });
	/* The fresh snapshot's entries fill the gap in the conversation:
	 * the input sent while away and its reply, once each. */
	const c = await conversation(pa);
	check('  (the gap\'s input and reply shown once each)',
	    times(c, 'user', 'said while away') === 1 &&
	    times(c, 'worker', 'echo: said while away') === 1,
	    JSON.stringify(c.slice(-4)));
	return await sayAndHear(pa, 'back after the gap') >= 1;
});

await step('Stop on the recovered worker changes its status', async () => {
	await pa.click('#btn-stop');
	await pa.waitForSelector(sel.workerStatus('stopped'), { timeout: T });
	await pa.waitForSelector('.line-status[data-status="stopped"]',
	    { timeout: T });
});
await snapshotDom(pa);

/* ---- 5e: a runtime that fails or refuses wrg's token ---------------------- */

async function fault(body) {
	const r = await fetch(`http://127.0.0.1:${env.STACK_ALPHA_PORT}` +
	    '/_control/fault', { method: 'POST', headers: {
		Authorization: `Bearer ${token}`,
		'Content-Type': 'application/json' },
	    body: JSON.stringify(body) });
	if (!r.ok)
		throw new Error(`fault: HTTP ${r.status}`);
}
await step('a runtime failing with 500 (its message names a file) shows ' +
    'as error, the message stays out of the page', async () => {
	await fault({ fail_500: true });
	try {
		await pb.goto(`${URL0}#/runtimes`);
		await pb.waitForSelector(sel.runtime('alpha', 'error'),
		    { timeout: T });
		await pb.goto(`${URL0}#/w/alpha/${encodeURIComponent(w1)}`);
		const box = pb.locator('.alert-error[data-code]').first();
		await box.waitFor({ timeout: T });
		const code = await box.getAttribute('data-code');
		await snapshotDom(pb);
		return check(`  (worker view error code ${code})`,
		    code === 'runtime_error');
	} finally {
		await fault({ fail_500: false });
	}
});
await step('a runtime refusing the token shows as unauthorized', async () => {
	await fault({ refuse_token: true });
	try {
		await pb.goto(`${URL0}#/runtimes`);
		await pb.waitForSelector(sel.runtime('alpha', 'unauthorized'),
		    { timeout: T });
		await snapshotDom(pb);
	} finally {
		await fault({ refuse_token: false });
	}
	await pb.waitForSelector(sel.runtime('alpha', 'available'),
	    { timeout: T });
});

/* ---- 6: small screens --------------------------------------------------- */

for (const [page, name, what] of [[pa, 'worker-360.png', 'worker view'],
    [pb, 'runtimes-360.png', 'runtimes view']]) {
	await step(`${what} fits 360 px without sideways scrolling`,
	    async () => {
		await page.setViewportSize({ width: 360, height: 760 });
		await page.waitForTimeout(300);
		const w = await page.evaluate(() =>
		    document.documentElement.scrollWidth);
		await shot(page, name);
		return check(`  (${what} scrollWidth ${w} <= 360)`, w <= 360);
	});
}

/* ---- 7: nothing leaked ---------------------------------------------------- */

await snapshotDom(pb);
await Promise.allSettled(pending);
const corpus = seen.join('\n');
const secrets = [
	['token', token],
	['alpha host:port', `127.0.0.1:${env.STACK_ALPHA_PORT}`],
	['alpha port', new RegExp(`(?<![0-9])${env.STACK_ALPHA_PORT}(?![0-9])`)],
	['wsproxy port', new RegExp(`(?<![0-9])${env.STACK_WSPROXY_PORT}` +
	    '(?![0-9])')],
	['beta socket path', env.STACK_BETA_SOCK],
	['fcgi socket path', env.STACK_FCGI_SOCK],
	['scratch dir', env.STACK_DIR],
	['token file', env.STACK_TOKEN_FILE],
	['unix: URL', /unix:\//],
	['upstream /v1/ path', /\/v1\/(runtime|workers)/],
];
check(`collected browser-visible bytes (${corpus.length} chars, ` +
    `${frames.length} WS frames)`, corpus.length > 10000 &&
    frames.length > 10);
for (const [what, s] of secrets) {
	const hit = typeof s === 'string' ? corpus.includes(s) : s.test(corpus);
	let ctxt = '';
	if (hit) {
		const i = typeof s === 'string' ? corpus.indexOf(s) :
		    corpus.search(s);
		ctxt = JSON.stringify(corpus.slice(Math.max(0, i - 80), i + 80));
	}
	check(`no ${what} in anything the browser saw`, !hit, ctxt);
}
/* Every runtime id the browser got is a registry id. */
const rtIds = new Set();
for (const m of restBodies.join('\n').matchAll(
    /"runtime_id"\s*:\s*"([^"]*)"/g))
	rtIds.add(m[1]);
for (const f of frames) {
	try {
		const e = JSON.parse(f.payload).envelope;
		if (e && 'runtime_id' in e)
			rtIds.add(String(e.runtime_id));
	} catch { /* counted by the leak scan */ }
}
check(`runtime ids seen are registry ids (${[...rtIds].join(', ')})`,
    rtIds.size > 0 && [...rtIds].every((i) => i === 'alpha' || i === 'beta'));

fs.writeFileSync(path.join(ART, 'ws-frames.jsonl'), frames.map((f) =>
    JSON.stringify({ url: new URL(f.url).pathname + new URL(f.url).search,
	frame: f.payload })).join('\n') + '\n');
await browser.close();
console.log(`# browser checks: ${passes} passed, ${fails} failed`);
process.exit(0);
