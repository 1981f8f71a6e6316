/**
 * The playground page: loads the model list and classes, wires the two views, keeps the whole
 * state in the URL (pushState per run, replaceState per control change, popstate restores) and
 * shows API errors inline.
 *
 * Plain TypeScript modules, no framework: the page is two forms and two result areas, so a
 * framework's runtime (and a bundler to ship it offline) would outweigh the code it saves.
 */
import { byId, h, announce, randomSeed } from './dom.js';
import { Api, ApiError } from './api.js';
import type { ClassEntry } from './classes.js';
import { parseState, serializeState, MAX_COUNT, type PageState } from './state.js';
import { GenerateView } from './generate-view.js';
import { InterpolateView } from './interpolate-view.js';

/** What /v1/models lists per model (the fields the page uses). */
interface ModelInfo {
  name: string;
  resolution?: number;
  engine?: string;
  backend?: string;
  maxSamplesPerRequest?: number;
  formats?: string[];
  default?: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const errorBox = byId('error', HTMLDivElement);
let retryTimer: ReturnType<typeof setInterval> | undefined;

/** Shows an error inline; 429/503 count down to when a retry makes sense. */
function showError(err: unknown): void {
  if (err instanceof DOMException && err.name === 'AbortError') return;
  clearError();
  const title = err instanceof Error ? err.message : String(err);
  const parts: (Node | string)[] = [h('strong', {}, title)];
  if (err instanceof ApiError) {
    // Status 0: a check made by the page itself, before any request; only the field is worth showing.
    const details = [
      err.status ? `HTTP ${err.status}` : '',
      err.status ? err.code : '',
      err.field ? `field: ${err.field}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    if (details) parts.push(h('span', { class: 'details' }, details));
    if (err.retryAfterSeconds !== undefined || err.status === 429 || err.status === 503) {
      const retry = h('span', { 'data-testid': 'retry-after' });
      let left = err.retryAfterSeconds ?? 1;
      const tick = () => {
        retry.textContent = left > 0 ? `Try again in ${left} s.` : 'You can try again now.';
        if (left-- <= 0 && retryTimer !== undefined) clearInterval(retryTimer);
      };
      tick();
      retryTimer = setInterval(tick, 1000);
      parts.push(retry);
    }
  } else if (err instanceof TypeError) {
    parts.push(h('span', {}, 'Could not reach the server.'));
  }
  errorBox.replaceChildren(...parts);
  errorBox.hidden = false;
}

function clearError(): void {
  if (retryTimer !== undefined) clearInterval(retryTimer);
  retryTimer = undefined;
  errorBox.hidden = true;
  errorBox.replaceChildren();
}

let pendingKey: Promise<string | null> | undefined;

/** Asks for an API key in a modal dialog; null when cancelled. Concurrent 401s share one prompt. */
function promptKey(reason: 'missing' | 'rejected'): Promise<string | null> {
  pendingKey ??= askKey(reason).finally(() => (pendingKey = undefined));
  return pendingKey;
}

function askKey(reason: 'missing' | 'rejected'): Promise<string | null> {
  const dialog = byId('key-dialog', HTMLDialogElement);
  const input = byId('key-input', HTMLInputElement);
  byId('key-reason', HTMLParagraphElement).textContent =
    reason === 'missing'
      ? 'This server requires an API key.'
      : 'The server did not accept that key. Enter another one.';
  input.value = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && input.value ? input.value : null), {
      once: true,
    });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

let classes: readonly ClassEntry[] = [];
let models: ModelInfo[] = [];
const api = new Api(new URL('.', location.href), promptKey);
const defaultModel = () => (models.find((m) => m.default) ?? models[0])?.name ?? '';
let state: PageState = parseState(location.search);
/** The query string of the current history entry as it was when its images were made. */
let entrySearch = location.search;

const common = {
  api,
  classes: () => classes,
  defaultModel,
  changed: () => onChange(),
  problem: (message: string, field: string, focus: HTMLElement) => {
    showError(new ApiError(0, 'CHECK', message, field));
    focus.focus();
  },
};
const gen = new GenerateView({ ...common, submit: () => void submit('generate') });
const interp = new InterpolateView({
  ...common,
  model: () => state.gen.model,
  submit: () => void submit('interpolate'),
  error: showError,
});

function readControls(): PageState {
  return { view: state.view, gen: gen.read(), interp: interp.read() };
}

/** A control changed: the URL follows (same history entry). */
function onChange(): void {
  state = readControls();
  history.replaceState(null, '', serializeState(state) || location.pathname);
}

/** Moves to a new history entry, leaving the current one as it was when its result was made. */
function pushEntry(): void {
  const search = serializeState(state);
  if (search === entrySearch) {
    history.replaceState(null, '', search || location.pathname);
    return;
  }
  history.replaceState(null, '', entrySearch || location.pathname);
  history.pushState(null, '', search || location.pathname);
  entrySearch = search;
}

async function submit(view: 'generate' | 'interpolate'): Promise<void> {
  clearError();
  if (view === 'generate' && !gen.read().lock) gen.reroll();
  state = readControls();
  const problem = view === 'generate' ? gen.check(state.gen) : interp.check(state.interp);
  if (problem) return common.problem(problem.message, problem.field, problem.focus);
  pushEntry();
  try {
    if (view === 'generate') await gen.run(state.gen);
    else await interp.run(state.interp);
    // On a phone the results sit below the form: bring them into view.
    if (matchMedia('(max-width: 720px)').matches)
      byId(view === 'generate' ? 'results' : 'interp-result', HTMLDivElement).scrollIntoView({ block: 'start' });
  } catch (err) {
    showError(err);
  }
}

/** Shows a view's tab and panel. */
function showView(view: PageState['view']): void {
  for (const v of ['generate', 'interpolate'] as const) {
    const tab = byId(`tab-${v}`, HTMLButtonElement);
    tab.setAttribute('aria-selected', String(v === view));
    tab.tabIndex = v === view ? 0 : -1;
    byId(`panel-${v}`, HTMLElement).hidden = v !== view;
  }
}

/** Applies a state from the URL to the controls, and reproduces its result when it names one. */
async function restore(): Promise<void> {
  clearError();
  showView(state.view);
  gen.write(state.gen);
  interp.write(state.interp);
  modelSelect.value = state.gen.model || defaultModel();
  try {
    if (state.view === 'generate') {
      if (state.gen.cls && state.gen.seed) await gen.run(state.gen);
      else gen.clear();
    } else if (!interp.check(state.interp)) {
      await interp.run(state.interp);
    } else {
      interp.clear();
    }
  } catch (err) {
    showError(err);
  }
}

const modelSelect = byId('model', HTMLSelectElement);

function setUpTabs(): void {
  const tabs = ['generate', 'interpolate'] as const;
  tabs.forEach((v, i) => {
    const tab = byId(`tab-${v}`, HTMLButtonElement);
    tab.addEventListener('click', () => {
      if (state.view === v) return;
      state = { ...readControls(), view: v };
      showView(v);
      pushEntry();
    });
    // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
    tab.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      e.preventDefault();
      const next = byId(
        `tab-${tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]}`,
        HTMLButtonElement,
      );
      next.focus();
      next.click();
    });
  });
}

async function loadModels(): Promise<void> {
  const body = await api.getJson('v1/models');
  const list = isRecord(body) && Array.isArray(body.models) ? body.models : [];
  models = list.filter(isRecord).filter((m): m is Record<string, unknown> & ModelInfo => typeof m.name === 'string');
  modelSelect.replaceChildren(...models.map((m) => h('option', { value: m.name }, m.name)));
  byId('model-field', HTMLDivElement).hidden = models.length < 2;
  modelSelect.addEventListener('change', () => {
    const picked = modelSelect.value === defaultModel() ? '' : modelSelect.value;
    gen.setModel(picked);
    onChange();
    applyModel();
  });
  applyModel();
}

/** Shows the current model and applies its limits to the controls. */
function applyModel(): void {
  const m = models.find((x) => x.name === (state.gen.model || defaultModel()));
  if (!m) return;
  const max = Math.min(MAX_COUNT, m.maxSamplesPerRequest ?? MAX_COUNT);
  gen.setLimits(
    max,
    (m.formats ?? []).filter((f) => ['png', 'jpeg', 'webp'].includes(f)),
  );
  interp.setMaxFrames(max);
  const about = [
    m.name,
    m.resolution ? `${m.resolution}×${m.resolution} px` : '',
    m.engine ? `${m.engine}${m.backend ? ` (${m.backend})` : ''}` : '',
  ];
  byId('model-info', HTMLParagraphElement).textContent = about.filter(Boolean).join(' · ');
}

async function loadClasses(): Promise<void> {
  const body = await api.getJson('v1/classes');
  const list = isRecord(body) && Array.isArray(body.classes) ? body.classes : [];
  classes = list.filter(isRecord).map((c) => ({
    index: Number(c.index),
    wnid: typeof c.wnid === 'string' ? c.wnid : '',
    names: Array.isArray(c.names) ? c.names.filter((n): n is string => typeof n === 'string') : [],
  }));
}

async function boot(): Promise<void> {
  setUpTabs();
  // The class list and the models are needed to show names and limits; a failure shows inline.
  const loaded = await Promise.allSettled([loadModels(), loadClasses()]);
  const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  await restore();
  // A page without seeds gets some to start from (in the URL once something changes).
  if (!state.gen.seed || !state.interp.fromSeed || !state.interp.toSeed) {
    state.gen.seed ||= randomSeed();
    state.interp.fromSeed ||= randomSeed();
    state.interp.toSeed ||= randomSeed();
    gen.write(state.gen);
    interp.write(state.interp);
  }
  if (failed) showError(failed.reason);
  window.addEventListener('popstate', () => {
    state = parseState(location.search);
    entrySearch = location.search;
    void restore();
  });
  document.body.dataset.ready = 'true';
  announce('Playground ready');
}

void boot();
