// Herald's dashboard: plain JavaScript, no build step, nothing loaded from outside the broker.
// Every data call sends the admin token (kept in this tab's sessionStorage) as 'Authorization: Bearer'. The live
// flow is the admin activity stream (Server-Sent Events) read with fetch and a stream reader, since EventSource
// cannot send that header. Everything from the broker is put on the page as text, never as markup.
'use strict';

(() => {
  const Api = '/_herald/v1';
  const TokenKey = 'herald.adminToken';
  const WorkspaceKey = 'herald.workspace';
  const ChartKeyPrefix = 'herald.chart.';
  const AppsEvery = 2000;
  const DeadEvery = 5000;
  const WorkspacesEvery = 10000;
  const ChartSeconds = 600; // kept; the chart shows the last minute or all ten
  const SamplesPerSecond = 50;
  const FlowEvents = 100;
  const AttemptsShown = 6;

  const $ = (id) => document.getElementById(id);

  /** Makes an element: attrs are attributes ('text' sets textContent, 'data' a dataset object); children are nodes or strings. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'data') Object.assign(node.dataset, value);
      else if (name === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(svgNs, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'text') node.textContent = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }

  // ---- State ----------------------------------------------------------------------------------------------------

  const state = {
    token: null,
    workspaces: [],
    current: null, // {account, workspace}
    session: null, // AbortController of the current workspace's loops and stream
    apps: [],
    lag: new Map(),
  };

  class AuthError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function problemDetail(response) {
    try {
      const body = await response.json();
      return body.detail || body.title || `HTTP ${response.status}`;
    } catch {
      return `HTTP ${response.status}`;
    }
  }

  /** Calls the admin API with the admin token; throws AuthError on 401/403 and ApiError on any other failure. */
  async function call(method, path, body, signal) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(Api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError(0, `The broker does not answer (${error.message}). Is it still running?`);
    }
    if (response.status === 401 || response.status === 403) throw new AuthError(response.status, await problemDetail(response));
    if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
    return response.status === 204 ? null : response.json();
  }

  const ws = () => `/${encodeURIComponent(state.current.account)}/${encodeURIComponent(state.current.workspace)}`;

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }

  // ---- Sign in --------------------------------------------------------------------------------------------------

  function refusedMessage(error) {
    if (error instanceof AuthError && error.status === 403) {
      return `The broker refused this token: it is an app token, and the dashboard needs the admin token (admin.token in the broker's data folder). ${error.message}`;
    }
    if (error instanceof AuthError) {
      return `The broker refused this token: it is not this broker's admin token. Copy the whole content of admin.token from the broker's data folder. ${error.message}`;
    }
    return error.message;
  }

  function showSignIn(message) {
    stopSession();
    workspacesLoop?.abort();
    state.token = null;
    state.current = null;
    document.body.dataset.view = 'signin';
    $('session').hidden = true;
    $('dashboard').hidden = true;
    $('signin').hidden = false;
    const error = $('signin-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token').focus();
  }

  async function signIn(token) {
    state.token = token;
    $('signin-button').disabled = true;
    try {
      const answer = await call('GET', '/workspaces');
      sessionStorage.setItem(TokenKey, token);
      $('token').value = '';
      showDashboard(answer.workspaces);
    } catch (error) {
      sessionStorage.removeItem(TokenKey);
      showSignIn(refusedMessage(error));
    } finally {
      $('signin-button').disabled = false;
    }
  }

  /** The token stopped working while signed in (the broker's admin token changed): back to sign-in, saying so. */
  function lostAuth(error) {
    sessionStorage.removeItem(TokenKey);
    showSignIn(refusedMessage(error));
  }

  function signOut() {
    sessionStorage.removeItem(TokenKey);
    showSignIn('');
  }

  // ---- Workspaces -----------------------------------------------------------------------------------------------

  function showDashboard(workspaces) {
    document.body.dataset.view = 'dashboard';
    $('signin').hidden = true;
    $('session').hidden = false;
    $('dashboard').hidden = false;
    $('signin-error').hidden = true;
    setWorkspaces(workspaces);
    const wanted = decodeURIComponent(location.hash.slice(1)) || sessionStorage.getItem(WorkspaceKey) || '';
    const chosen = state.workspaces.find((w) => `${w.account}/${w.workspace}` === wanted) || state.workspaces[0];
    if (chosen) selectWorkspace(chosen.account, chosen.workspace);
    else {
      stopSession();
      notice('No app is linked on this broker yet. Link one (herald link in its folder) and it shows here.');
    }
    pollWorkspaces();
  }

  function setWorkspaces(workspaces) {
    state.workspaces = workspaces;
    const select = $('workspace');
    const keep = select.value;
    select.replaceChildren(...workspaces.map((w) => el('option', {
      value: `${w.account}/${w.workspace}`,
      text: `${w.account}/${w.workspace} (${w.apps} ${w.apps === 1 ? 'app' : 'apps'})`,
    })));
    if (state.current) {
      const current = `${state.current.account}/${state.current.workspace}`;
      if (!workspaces.some((w) => `${w.account}/${w.workspace}` === current)) {
        select.append(el('option', { value: current, text: `${current} (no apps)` }));
      }
      select.value = current;
    } else if (keep) {
      select.value = keep;
    }
  }

  let workspacesLoop = null;
  function pollWorkspaces() {
    workspacesLoop?.abort();
    const loop = new AbortController();
    workspacesLoop = loop;
    (async () => {
      while (!loop.signal.aborted) {
        await sleep(WorkspacesEvery, loop.signal);
        if (loop.signal.aborted || !state.token) return;
        try {
          const answer = await call('GET', '/workspaces', undefined, loop.signal);
          setWorkspaces(answer.workspaces);
          if (!state.current && answer.workspaces.length > 0) {
            selectWorkspace(answer.workspaces[0].account, answer.workspaces[0].workspace);
          }
        } catch (error) {
          if (error instanceof AuthError) { lostAuth(error); return; }
        }
      }
    })();
  }

  function stopSession() {
    state.session?.abort();
    state.session = null;
    if (chart.current) saveChart();
    setStream('off');
  }

  function selectWorkspace(account, workspace) {
    stopSession();
    state.current = { account, workspace };
    sessionStorage.setItem(WorkspaceKey, `${account}/${workspace}`);
    history.replaceState(null, '', `#${account}/${workspace}`);
    $('workspace').value = `${account}/${workspace}`;
    notice('');
    state.apps = [];
    state.lag = new Map();
    $('apps-body').replaceChildren();
    $('deadletters').replaceChildren();
    $('dead-filter').replaceChildren(el('option', { value: '', text: 'All' }));
    flow.clear();
    loadChart(`${account}/${workspace}`);
    const session = new AbortController();
    state.session = session;
    runLoop(session.signal, AppsEvery, refreshApps);
    runLoop(session.signal, DeadEvery, refreshDeadLetters);
    readActivity(session.signal);
  }

  // ---- Notices --------------------------------------------------------------------------------------------------

  function notice(text, failed) {
    const node = $('notice');
    node.textContent = text || '';
    node.hidden = !text;
    node.classList.toggle('failed', !!failed);
  }

  // ---- Polling loops --------------------------------------------------------------------------------------------

  const wakers = new Map();
  let loopFailed = false;

  /**
   * Runs refresh now and every period until signal aborts; wake(refresh) runs it again at once. A hidden tab reads
   * nothing from the store (each read counts deliveries) until it is shown again.
   */
  function runLoop(signal, period, refresh) {
    (async () => {
      while (!signal.aborted) {
        try {
          if (!document.hidden) {
            await refresh(signal);
            // A read that failed before (the broker or its store was away) says nothing any more once one succeeds.
            if (loopFailed && !signal.aborted) { loopFailed = false; notice(''); }
          }
        } catch (error) {
          if (signal.aborted || error.name === 'AbortError') return;
          if (error instanceof AuthError) { lostAuth(error); return; }
          loopFailed = true;
          notice(error.message, true);
        }
        const wait = new AbortController();
        wakers.set(refresh, wait);
        const stop = () => wait.abort();
        signal.addEventListener('abort', stop, { once: true });
        await sleep(period, wait.signal);
        signal.removeEventListener('abort', stop);
        wakers.delete(refresh);
      }
    })();
  }

  function wake(refresh) {
    wakers.get(refresh)?.abort();
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) for (const waker of wakers.values()) waker.abort();
  });

  // ---- Apps and subscriptions -----------------------------------------------------------------------------------

  async function refreshApps(signal) {
    const [apps, lag] = await Promise.all([call('GET', `${ws()}/apps`, undefined, signal), call('GET', `${ws()}/lag`, undefined, signal)]);
    if (signal.aborted) return;
    state.apps = apps.apps;
    state.lag = new Map(lag.subscriptions.map((s) => [s.id, s]));
    renderApps();
    renderDeadFilter();
  }

  function formatLag(seconds) {
    if (!seconds || seconds < 0.5) return '0 s';
    if (seconds < 60) return `${Math.round(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
    return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
  }

  const number = (n) => Number(n).toLocaleString('en-US');

  function listensTo(s) {
    return `${s.sender ? `${s.sender}: ` : 'any sender: '}${s.keys.join(', ')}`;
  }

  function renderApps() {
    const rows = [];
    for (const app of state.apps) {
      rows.push({
        key: `app:${app.sender}`,
        signature: JSON.stringify([app.app, app.endpoint]),
        render: () => el('tr', { class: 'app', data: { app: app.sender } },
          el('td', { colspan: 8 }, app.app, el('span', { class: 'endpoint mono', text: app.endpoint }))),
      });
      if (app.subscriptions.length === 0) {
        rows.push({
          key: `none:${app.sender}`,
          signature: 'none',
          render: () => el('tr', { class: 'nosubscription' }, el('td', { colspan: 8, class: 'muted', text: 'No subscriptions: it only publishes.' })),
        });
      }
      for (const s of app.subscriptions) {
        const lag = state.lag.get(s.id);
        const lagSeconds = lag ? lag.lagSeconds : 0;
        rows.push({
          key: `sub:${s.id}`,
          signature: JSON.stringify([s, Math.round(lagSeconds)]),
          render: () => el('tr', { class: 'subscription', data: { subscriptionId: s.id } },
            el('td', { class: 'mono', text: s.handlerId }),
            el('td', { text: listensTo(s) }),
            el('td', { class: 'num', data: { field: 'pending' }, text: number(s.pending) }),
            el('td', { class: 'num', data: { field: 'inFlight' }, text: number(s.inFlight) }),
            el('td', { class: 'num', data: { field: 'delivered' }, text: number(s.delivered) }),
            el('td', { class: `num${s.dead > 0 ? ' bad' : ''}`, data: { field: 'dead' }, text: number(s.dead) }),
            el('td', { class: `num${lagSeconds >= 60 ? ' warn' : ''}`, data: { field: 'lag' }, text: formatLag(lagSeconds), title: lag?.oldestUndelivered ? `oldest undelivered accepted at ${new Date(lag.oldestUndelivered).toLocaleString()}` : 'caught up' }),
            el('td', {}, el('button', { type: 'button', class: 'replay', text: 'Replay…', onclick: () => replay(app, s) }))),
        });
      }
    }
    reconcile($('apps-body'), rows);
    $('apps-empty').hidden = state.apps.length > 0;
  }

  /** Puts rows (key, signature, render) in container in order, keeping the nodes whose signature did not change. */
  function reconcile(container, rows) {
    const existing = new Map([...container.children].map((node) => [node.dataset.rowKey, node]));
    const wanted = rows.map((row) => {
      const node = existing.get(row.key);
      if (node && node.dataset.signature === row.signature) {
        existing.delete(row.key);
        return node;
      }
      const fresh = row.render();
      fresh.dataset.rowKey = row.key;
      fresh.dataset.signature = row.signature;
      return fresh;
    });
    // What is left is gone or changed (its fresh node replaces it below).
    for (const node of existing.values()) node.remove();
    wanted.forEach((node, i) => {
      const at = container.children[i] || null;
      if (at !== node) container.insertBefore(node, at);
    });
  }

  // ---- Dead letters ---------------------------------------------------------------------------------------------

  function renderDeadFilter() {
    const select = $('dead-filter');
    const keep = select.value;
    const ids = state.apps.flatMap((a) => a.subscriptions.map((s) => s.id));
    const current = [...select.options].slice(1).map((o) => o.value);
    if (JSON.stringify(current) !== JSON.stringify(ids)) {
      select.replaceChildren(el('option', { value: '', text: 'All' }), ...ids.map((id) => el('option', { value: id, text: id.split('/').slice(2).join('/') })));
      select.value = ids.includes(keep) ? keep : '';
    }
    const dead = state.apps.flatMap((a) => a.subscriptions).filter((s) => !select.value || s.id === select.value).reduce((sum, s) => sum + s.dead, 0);
    $('dead-count').textContent = dead > 0 ? `${number(dead)} in ${select.value ? 'this subscription' : 'this workspace'}` : '';
  }

  async function refreshDeadLetters(signal) {
    const filter = $('dead-filter').value;
    const answer = await call('GET', `${ws()}/deadletters?limit=100${filter ? `&subscription=${encodeURIComponent(filter)}` : ''}`, undefined, signal);
    if (signal.aborted) return;
    renderDeadLetters(answer.deadLetters);
  }

  function formatTime(value) {
    const d = new Date(value);
    const pad = (n, w = 2) => String(n).padStart(w, '0');
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function renderDeadLetters(letters) {
    reconcile($('deadletters'), letters.map((d) => ({
      key: d.id,
      signature: d.id,
      render: () => el('article', { class: 'deadletter', data: { id: d.id, eventId: d.eventId, subscriptionId: d.subscriptionId } },
        el('div', { class: 'head' },
          el('span', { class: 'key', text: d.key }),
          el('span', { class: 'meta', text: `from ${d.sender} to ${d.app}/${d.handlerId}` }),
          el('span', { class: 'meta', text: `published ${new Date(d.eventTime).toLocaleString()}, dead ${new Date(d.deadAt).toLocaleString()}` }),
          el('span', { class: 'meta mono', text: d.eventId }),
          el('span', { class: 'actions' },
            el('button', { type: 'button', class: 'redrive', text: 'Redrive…', onclick: () => redrive([d]) }),
            el('button', { type: 'button', class: 'purge danger', text: 'Purge…', onclick: () => purge([d]) }))),
        el('div', { class: 'reason', text: d.reason }),
        el('table', { class: 'attempts' },
          el('thead', {}, el('tr', {}, el('th', { class: 'num', text: 'Attempt' }), el('th', { text: 'Started' }), el('th', { class: 'num', text: 'Took' }), el('th', { class: 'num', text: 'Status' }), el('th', { text: 'Error' }))),
          el('tbody', {}, ...d.attempts.map((a) => el('tr', { class: 'attempt' },
            el('td', { class: 'num', text: `#${a.attempt}` }),
            el('td', { text: formatTime(a.at) }),
            el('td', { class: 'num', text: `${Math.round(a.durationMs)} ms` }),
            el('td', { class: 'num', text: a.status ?? '—' }),
            el('td', { text: a.error ?? '' }))))),
        el('details', {}, el('summary', { text: 'Body' }), el('pre', { text: JSON.stringify(d.body, null, 2) }))),
    })));
    $('dead-empty').hidden = letters.length > 0;
    $('redrive-all').disabled = letters.length === 0;
    $('purge-all').disabled = letters.length === 0;
  }

  /** The selector for 'all' in the filter: every dead letter of the chosen subscription, or of the workspace. */
  function allSelector() {
    const subscription = $('dead-filter').value;
    return subscription ? { subscription } : { since: '1970-01-01T00:00:00Z' };
  }

  const plural = (n, one, many) => `${number(n)} ${n === 1 ? one : many}`;

  async function redrive(letters) {
    const all = letters === null;
    const ok = await confirmAction({
      title: all ? 'Redrive every dead letter?' : 'Redrive this dead letter?',
      text: all
        ? `Every dead letter of ${$('dead-filter').value || `${state.current.account}/${state.current.workspace}`} goes back on its subscription's queue and is delivered again from attempt 1.`
        : `${letters[0].key} from ${letters[0].sender} goes back on the queue of ${letters[0].app}/${letters[0].handlerId} and is delivered again from attempt 1.`,
      ok: 'Redrive',
    });
    if (!ok) return;
    await act(async () => {
      const answer = await call('POST', `${ws()}/deadletters/redrive`, all ? allSelector() : { ids: letters.map((d) => d.id) });
      return `Redrove ${plural(answer.redriven, 'dead letter', 'dead letters')}${answer.remaining > 0 ? `; ${number(answer.remaining)} still match` : ''}.`;
    });
  }

  async function purge(letters) {
    const all = letters === null;
    const ok = await confirmAction({
      title: all ? 'Purge every dead letter?' : 'Purge this dead letter?',
      text: all
        ? `Every dead letter of ${$('dead-filter').value || `${state.current.account}/${state.current.workspace}`} is deleted for good; those events are not delivered to those subscriptions again.`
        : `${letters[0].key} from ${letters[0].sender} is deleted for good; it is not delivered to ${letters[0].app}/${letters[0].handlerId} again.`,
      ok: 'Purge',
      danger: true,
    });
    if (!ok) return;
    await act(async () => {
      const answer = await call('POST', `${ws()}/deadletters/purge`, all ? allSelector() : { ids: letters.map((d) => d.id) });
      return `Purged ${plural(answer.purged, 'dead letter', 'dead letters')}${answer.remaining > 0 ? `; ${number(answer.remaining)} still match` : ''}.`;
    });
  }

  function localInputValue(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  async function replay(app, s) {
    const input = el('input', { id: 'replay-since', type: 'datetime-local', required: true, value: localInputValue(new Date(Date.now() - 3600_000)) });
    const ok = await confirmAction({
      title: `Replay ${app.sender}/${s.handlerId}?`,
      text: 'Every event routed to this subscription since the time below is delivered to it again, the ones it already handled included. Events older than the broker\'s retention (7 days by default) may have been pruned.',
      extra: [el('label', { for: 'replay-since', text: 'Since (your local time)' }), input],
      ok: 'Replay',
    });
    if (!ok) return;
    const since = new Date(input.value);
    if (Number.isNaN(since.getTime())) { notice('Replay: give a valid time to replay from.', true); return; }
    await act(async () => {
      const answer = await call('POST', `${ws()}/apps/${encodeURIComponent(app.sender)}/subscriptions/${encodeURIComponent(s.handlerId)}/replay`, { since: since.toISOString() });
      return `Replaying ${plural(answer.replayed, 'event', 'events')} to ${app.sender}/${s.handlerId}.`;
    });
  }

  async function act(run) {
    try {
      const done = await run();
      loopFailed = false;
      notice(done);
    } catch (error) {
      if (error instanceof AuthError) { lostAuth(error); return; }
      notice(error.message, true);
    }
    wake(refreshDeadLetters);
    wake(refreshApps);
  }

  // ---- Confirmation ---------------------------------------------------------------------------------------------

  let pendingConfirm = null;

  /** Shows the in-page confirmation; resolves true when its button is pressed, false when cancelled. */
  function confirmAction({ title, text, extra, ok, danger }) {
    const dialog = $('confirm');
    pendingConfirm?.(false);
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-extra').replaceChildren(...(extra || []));
    const button = $('confirm-ok');
    button.textContent = ok;
    button.className = danger ? 'danger' : 'primary';
    return new Promise((resolve) => {
      pendingConfirm = (answer) => {
        pendingConfirm = null;
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      dialog.showModal();
      $('confirm-cancel').focus();
    });
  }

  // ---- Live flow ------------------------------------------------------------------------------------------------

  const flow = {
    rows: new Map(), // eventId -> {node, outcomes: Map(subscription -> [activity])}

    clear() {
      this.rows.clear();
      $('flow').replaceChildren();
      $('flow-empty').hidden = false;
    },

    add(a) {
      let row = this.rows.get(a.eventId);
      if (!row) {
        row = { outcomes: new Map(), published: null, node: null, first: a };
        this.rows.set(a.eventId, row);
        row.node = el('li', { class: 'event', data: { eventId: a.eventId } });
        $('flow').prepend(row.node);
        $('flow-empty').hidden = true;
        while (this.rows.size > FlowEvents) {
          const [oldest, old] = this.rows.entries().next().value;
          old.node.remove();
          this.rows.delete(oldest);
        }
      }
      if (a.kind === 'published') row.published = a;
      else {
        const key = `${a.app}/${a.handlerId}`;
        const list = row.outcomes.get(key) || [];
        // In the order they happened: a redriven or replayed delivery starts again from attempt 1.
        list.push(a);
        row.outcomes.set(key, list.slice(-AttemptsShown));
      }
      row.dirty = true;
    },

    render() {
      for (const row of this.rows.values()) {
        if (!row.dirty) continue;
        row.dirty = false;
        const head = row.published || row.first;
        const chips = [];
        if (row.published) chips.push(el('span', { class: 'outcome', data: { kind: 'published' }, text: 'published' }));
        for (const [subscription, attempts] of row.outcomes) {
          for (const a of attempts) {
            chips.push(el('span', {
              class: 'outcome',
              data: { kind: a.kind, subscription, attempt: a.attempt ?? '' },
              title: a.error || '',
              text: `${subscription} · #${a.attempt}${a.status ? ` · ${a.status}` : ''} · ${a.kind}`,
            }));
          }
        }
        const last = [...row.outcomes.values()].map((list) => list[list.length - 1].kind);
        row.node.dataset.state = last.includes('dead') ? 'dead' : last.includes('retrying') ? 'retrying' : last.length > 0 ? 'delivered' : 'published';
        row.node.replaceChildren(
          el('div', { class: 'head' },
            el('span', { class: 'time', text: formatTime(head.at) }),
            el('span', { class: 'key', text: head.key }),
            el('span', { class: 'from', text: `from ${head.sender}` }),
            el('span', { class: 'id mono', text: head.eventId.slice(0, 18) + '…', title: head.eventId })),
          el('div', { class: 'outcomes' }, ...chips));
      }
    },
  };

  // ---- Activity stream ------------------------------------------------------------------------------------------

  function setStream(value) {
    document.body.dataset.stream = value;
    $('stream-state').textContent = { off: 'off', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' }[value];
  }

  async function readActivity(signal) {
    let delay = 1000;
    setStream('connecting');
    while (!signal.aborted) {
      try {
        const response = await fetch(`${Api}${ws()}/activity`, {
          headers: { Authorization: `Bearer ${state.token}`, Accept: 'text/event-stream' },
          cache: 'no-store',
          signal,
        });
        if (response.status === 401 || response.status === 403) { lostAuth(new AuthError(response.status, await problemDetail(response))); return; }
        if (!response.ok) throw new Error(await problemDetail(response));
        // The broker subscribes before it answers, so from here on nothing it does in this workspace is missed.
        setStream('live');
        chart.live = true;
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replaceAll('\r\n', '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            onBlock(block);
          }
        }
      } catch (error) {
        if (signal.aborted) return;
      }
      chart.live = false;
      if (signal.aborted) return;
      setStream('reconnecting');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 15000);
    }
  }

  function onBlock(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    // Keep-alive pings, and anything that is not an activity line, are skipped.
    if (event === 'ping' || data.length === 0) return;
    let item;
    try {
      item = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    if (!item || typeof item.kind !== 'string' || typeof item.eventId !== 'string') return;
    queue.push(item);
    if (!flushTimer) flushTimer = setTimeout(flush, 100);
  }

  const queue = [];
  let flushTimer = 0;

  function flush() {
    flushTimer = 0;
    const items = queue.splice(0);
    let dead = false;
    for (const a of items) {
      chart.record(a);
      if (a.kind === 'dead') dead = true;
    }
    // Only the newest events are shown, so only those are worth laying out.
    for (const a of items.slice(-FlowEvents * 4)) flow.add(a);
    flow.render();
    chart.draw();
    // A new dead letter shows at once, but the store is read at most once a second however many die.
    if (dead && Date.now() - lastDeadWake > 1000) {
      lastDeadWake = Date.now();
      wake(refreshDeadLetters);
    }
  }

  let lastDeadWake = 0;

  // ---- Throughput and latency chart -----------------------------------------------------------------------------

  /** When an event was published: its id is a UUIDv7, whose first 48 bits are the publish time in ms. */
  function publishedAt(eventId) {
    const hex = eventId.replaceAll('-', '');
    return hex.length === 32 && hex[12] === '7' ? parseInt(hex.slice(0, 12), 16) : NaN;
  }

  function quantile(sorted, q) {
    if (sorted.length === 0) return null;
    return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
  }

  const chart = {
    current: null, // storage key of the workspace
    seconds: new Map(), // unix second -> {published, delivered, failed, samples: [], n, p50, p95}
    live: false,
    lastDraw: 0,
    window: 600, // seconds shown: 60 or 600

    bucket(second) {
      let b = this.seconds.get(second);
      if (!b) {
        b = { published: 0, delivered: 0, failed: 0, samples: [], n: 0, p50: null, p95: null };
        this.seconds.set(second, b);
      }
      return b;
    },

    record(a) {
      const b = this.bucket(Math.floor(Date.now() / 1000));
      if (a.kind === 'published') b.published++;
      else if (a.kind === 'delivered') {
        b.delivered++;
        const latency = Date.parse(a.at) - publishedAt(a.eventId);
        if (Number.isFinite(latency) && latency >= 0) {
          // A uniform sample of at most SamplesPerSecond latencies of this second.
          b.n++;
          if (b.samples.length < SamplesPerSecond) b.samples.push(latency);
          else {
            const i = Math.floor(Math.random() * b.n);
            if (i < SamplesPerSecond) b.samples[i] = latency;
          }
          b.sorted = null;
        }
      } else b.failed++;
    },

    /** Every second the stream is open gets a bucket, so a quiet second is drawn as 0, and one unwatched as a gap. */
    tick() {
      const now = Math.floor(Date.now() / 1000);
      if (this.live) this.bucket(now);
      for (const second of this.seconds.keys()) {
        if (second <= now - ChartSeconds) this.seconds.delete(second);
      }
      this.draw(true);
    },

    latencies(b) {
      if (!b.sorted) {
        b.sorted = [...b.samples].sort((x, y) => x - y);
        if (b.sorted.length > 0) {
          b.p50 = quantile(b.sorted, 0.5);
          b.p95 = quantile(b.sorted, 0.95);
        }
      }
      return b;
    },

    draw(force) {
      const now = Date.now();
      if (!force && now - this.lastDraw < 500) return;
      this.lastDraw = now;
      drawChart(this.seconds, Math.floor(now / 1000));
    },
  };

  function loadChart(key) {
    chart.current = key;
    chart.seconds = new Map();
    try {
      const saved = JSON.parse(sessionStorage.getItem(ChartKeyPrefix + key) || 'null');
      for (const [second, b] of saved || []) chart.seconds.set(second, { ...b, sorted: null });
    } catch {
      // A bad saved chart is dropped.
    }
    chart.tick();
  }

  function saveChart() {
    if (!chart.current) return;
    const kept = [...chart.seconds.entries()].map(([second, b]) => [second, { published: b.published, delivered: b.delivered, failed: b.failed, samples: b.samples, n: b.n }]);
    try {
      sessionStorage.setItem(ChartKeyPrefix + chart.current, JSON.stringify(kept));
    } catch {
      // Storage full: the chart starts afresh after a reload.
    }
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  function formatMs(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    return formatLag(ms / 1000);
  }

  /** One panel of the chart: series of [second, value|null] over the window, a y axis from 0. */
  function plot({ top, height, width, left, title, unit, series, seconds, now, span, format }) {
    const group = svg('g', { class: 'plot' });
    const values = series.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null));
    const max = niceMax(Math.max(0, ...values));
    const x = (second) => left + ((second - (now - span)) / span) * (width - left - 8);
    const y = (value) => top + height - (value / max) * height;
    group.append(svg('text', { class: 'title', x: left, y: top - 6, text: `${title} (${unit})` }));
    // Seconds nobody watched, shaded.
    let gapStart = null;
    for (let second = now - span + 1; second <= now + 1; second++) {
      const known = seconds.has(second);
      if (!known && gapStart === null && second <= now) gapStart = second;
      if ((known || second > now) && gapStart !== null) {
        group.append(svg('rect', { class: 'nodata', x: x(gapStart), y: top, width: Math.max(0, x(second) - x(gapStart)), height }));
        gapStart = null;
      }
    }
    for (const fraction of [0, 0.5, 1]) {
      const value = max * fraction;
      group.append(svg('line', { class: 'grid', x1: left, x2: width - 8, y1: y(value), y2: y(value) }));
      group.append(svg('text', { class: 'axis-label', x: left - 4, y: y(value) + 3, 'text-anchor': 'end', text: format(value) }));
    }
    for (const s of series) {
      // A line through consecutive known seconds; a lone point is a dot.
      let run = [];
      const end = () => {
        if (run.length === 1) group.append(svg('circle', { class: `dot ${s.class}`, cx: run[0][0], cy: run[0][1], r: 2 }));
        else if (run.length > 1) group.append(svg('polyline', { class: `series ${s.class}`, points: run.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(' ') }));
        run = [];
      };
      for (const [second, value] of s.points) {
        if (value === null) { end(); continue; }
        run.push([x(second), y(value)]);
      }
      end();
    }
    return group;
  }

  function drawChart(seconds, now) {
    const container = $('chart');
    if (!container || container.offsetParent === null) return;
    const width = Math.max(320, Math.floor(container.clientWidth));
    const left = 52;
    const range = [];
    const span = chart.window;
    for (let second = now - span + 1; second <= now; second++) range.push(second);
    const pick = (f) => range.map((second) => [second, seconds.has(second) ? f(chart.latencies(seconds.get(second))) : null]);
    const rate = (n) => (n >= 10 ? number(Math.round(n)) : String(Math.round(n * 10) / 10));
    const throughput = plot({
      top: 18, height: 110, width, left, title: 'Events', unit: 'per second', seconds, now, span, format: rate,
      series: [
        { class: 's-published', points: pick((b) => b.published) },
        { class: 's-delivered', points: pick((b) => b.delivered) },
        { class: 's-failed', points: pick((b) => b.failed) },
      ],
    });
    // Latency only where something was delivered.
    const latency = plot({
      top: 168, height: 90, width, left, title: 'Latency, publish → delivered', unit: 'p50, p95', seconds, now, span, format: formatMs,
      series: [
        { class: 's-p50', points: pick((b) => (b.sorted.length ? b.p50 : null)) },
        { class: 's-p95', points: pick((b) => (b.sorted.length ? b.p95 : null)) },
      ],
    });
    const axis = svg('g', {});
    const labels = span === 60 ? ['−60 s', '−30 s'] : ['−10 min', '−5 min'];
    for (const [second, label] of [[now - span, labels[0]], [now - span / 2, labels[1]], [now, 'now']]) {
      const px = left + ((second - (now - span)) / span) * (width - left - 8);
      axis.append(svg('text', { class: 'axis-label', x: px, y: 276, 'text-anchor': second === now ? 'end' : 'start', text: label }));
    }
    const root = svg('svg', { width, height: 282, viewBox: `0 0 ${width} 282`, role: 'img', 'aria-label': `Events per second and delivery latency over the last ${span === 60 ? 'minute' : '10 minutes'}` }, throughput, latency, axis);
    container.replaceChildren(root);

    // Totals over the window, and rates and latency over the last minute.
    let published = 0, delivered = 0, failed = 0;
    let minute = { published: 0, delivered: 0, failed: 0, samples: [], seconds: 0 };
    for (const [second, b] of seconds) {
      published += b.published;
      delivered += b.delivered;
      failed += b.failed;
      if (second > now - 60) {
        minute.published += b.published;
        minute.delivered += b.delivered;
        minute.failed += b.failed;
        minute.samples.push(...b.samples);
        minute.seconds++;
      }
    }
    container.dataset.published = published;
    container.dataset.delivered = delivered;
    container.dataset.failed = failed;
    const watched = Math.max(1, minute.seconds);
    const sorted = minute.samples.sort((a, b) => a - b);
    const legend = (cls, text) => el('span', { class: 'legend' }, el('span', { class: `swatch ${cls}` }), text);
    $('chart-summary').replaceChildren(
      'Last minute: ',
      legend('s-published', `${rate(minute.published / watched)}/s published`),
      legend('s-delivered', `${rate(minute.delivered / watched)}/s delivered`),
      legend('s-failed', `${rate(minute.failed / watched)}/s failed attempts`),
      legend('s-p50', `p50 ${formatMs(quantile(sorted, 0.5))}`),
      legend('s-p95', `p95 ${formatMs(quantile(sorted, 0.95))}`));
  }

  // ---- Start ----------------------------------------------------------------------------------------------------

  function start() {
    $('signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
    });
    $('signout').addEventListener('click', signOut);
    $('workspace').addEventListener('change', (event) => {
      const [account, workspace] = event.target.value.split('/');
      selectWorkspace(account, workspace);
    });
    $('dead-filter').addEventListener('change', () => {
      $('deadletters').replaceChildren();
      renderDeadFilter();
      wake(refreshDeadLetters);
    });
    for (const button of document.querySelectorAll('#chart-window button')) {
      button.addEventListener('click', () => {
        chart.window = Number(button.dataset.window);
        for (const other of document.querySelectorAll('#chart-window button')) other.setAttribute('aria-pressed', String(other === button));
        $('chart-span').textContent = chart.window === 60 ? 'last minute' : 'last 10 minutes';
        chart.draw(true);
      });
    }
    $('redrive-all').addEventListener('click', () => redrive(null));
    $('purge-all').addEventListener('click', () => purge(null));
    $('confirm-ok').addEventListener('click', () => pendingConfirm?.(true));
    $('confirm-cancel').addEventListener('click', () => pendingConfirm?.(false));
    $('confirm').addEventListener('close', () => pendingConfirm?.(false));
    setInterval(() => { chart.tick(); }, 1000);
    setInterval(saveChart, 5000);
    window.addEventListener('pagehide', saveChart);
    window.addEventListener('resize', () => chart.draw(true));

    const saved = sessionStorage.getItem(TokenKey);
    if (saved) signIn(saved);
    else showSignIn('');
  }

  start();
})();
