/**
 * The interpolate view: endpoints A and B (class and seed each), frames, lerp/slerp and
 * truncation. Runs POST /v1/interpolate for the frames (PNG, as JSON), plays them as an animation
 * that can be paused and scrubbed, and offers the GIF and WebP animation the API makes.
 */
import { byId, h, announce, saveBlob } from './dom.js';
import { ClassCombobox } from './combobox.js';
import type { ClassEntry } from './classes.js';
import { Api, curlCommand, copyText } from './api.js';
import { interpolateBody, round2, type InterpolateState } from './state.js';
import { imagesFromJson, classCaption, type ShownImage } from './images.js';
import { ResultCache } from './result-cache.js';

/** Frame time of the player, ms: the same as the API's GIF/WebP animations. */
const FRAME_MS = 200;

/** What the view needs from the page. */
export interface InterpolateViewHost {
  readonly api: Api;
  classes(): readonly ClassEntry[];
  model(): string;
  defaultModel(): string;
  changed(): void;
  submit(): void;
  problem(message: string, field: string, focus: HTMLElement): void;
  /** Shows an API error (the GIF/WebP downloads run outside a submit). */
  error(err: unknown): void;
}

export class InterpolateView {
  private readonly form = byId('interp-form', HTMLFormElement);
  private readonly fromSeed = byId('interp-from-seed', HTMLInputElement);
  private readonly toSeed = byId('interp-to-seed', HTMLInputElement);
  private readonly frames = byId('interp-frames', HTMLInputElement);
  private readonly method = byId('interp-method', HTMLSelectElement);
  private readonly truncation = byId('interp-truncation', HTMLInputElement);
  private readonly truncationOut = byId('interp-truncation-out', HTMLOutputElement);
  private readonly button = byId('interp-run', HTMLButtonElement);
  private readonly result = byId('interp-result', HTMLDivElement);
  private readonly from: ClassCombobox;
  private readonly to: ClassCombobox;
  private readonly cache = new ResultCache<ShownImage[]>(8);
  private shownKey = '';
  private running: AbortController | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: InterpolateViewHost) {
    this.from = new ClassCombobox(
      byId('interp-from-class', HTMLInputElement),
      byId('from-list', HTMLUListElement),
      () => host.classes(),
      () => host.changed(),
    );
    this.to = new ClassCombobox(
      byId('interp-to-class', HTMLInputElement),
      byId('to-list', HTMLUListElement),
      () => host.classes(),
      () => host.changed(),
    );
    this.truncation.addEventListener(
      'input',
      () => (this.truncationOut.value = Number(this.truncation.value).toFixed(2)),
    );
    for (const el of [this.fromSeed, this.toSeed, this.frames, this.method, this.truncation])
      el.addEventListener('change', () => host.changed());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      host.submit();
    });
    byId('interp-copy-curl', HTMLButtonElement).addEventListener('click', () => void this.copyCurl());
  }

  read(): InterpolateState {
    return {
      from: this.from.value(),
      fromSeed: this.fromSeed.value.trim(),
      to: this.to.value(),
      toSeed: this.toSeed.value.trim(),
      frames: Math.min(Number(this.frames.max) || 16, Math.max(2, Math.round(Number(this.frames.value) || 8))),
      method: this.method.value,
      truncation: round2(Number(this.truncation.value)),
    };
  }

  write(s: InterpolateState): void {
    this.from.set(s.from);
    this.to.set(s.to);
    this.fromSeed.value = s.fromSeed;
    this.toSeed.value = s.toSeed;
    this.frames.value = String(s.frames);
    this.method.value = s.method;
    this.truncation.value = String(s.truncation);
    this.truncationOut.value = s.truncation.toFixed(2);
  }

  setMaxFrames(max: number): void {
    this.frames.max = String(max);
  }

  check(s: InterpolateState): { message: string; field: string; focus: HTMLElement } | null {
    if (!s.from)
      return {
        message: 'Choose the class of endpoint A.',
        field: 'from.class',
        focus: byId('interp-from-class', HTMLInputElement),
      };
    if (!s.to)
      return {
        message: 'Choose the class of endpoint B.',
        field: 'to.class',
        focus: byId('interp-to-class', HTMLInputElement),
      };
    for (const [seed, field, el] of [
      [s.fromSeed, 'from.seed', this.fromSeed],
      [s.toSeed, 'to.seed', this.toSeed],
    ] as const) {
      if (!/^\d{1,20}$/.test(seed) || BigInt(seed) >= 2n ** 64n)
        return { message: 'Seeds must be whole numbers from 0 to 2^64 - 1.', field, focus: el };
    }
    return null;
  }

  clear(): void {
    this.running?.abort();
    this.stop();
    this.shownKey = '';
    this.result.replaceChildren(h('p', { class: 'empty' }, 'Choose two endpoints and press Interpolate.'));
  }

  /** Runs the interpolation of a state (frames as PNG) and plays it. */
  async run(s: InterpolateState): Promise<void> {
    const body = interpolateBody(s, 'png', this.host.model(), this.host.defaultModel());
    const key = JSON.stringify(body);
    if (key === this.shownKey) return;
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    let frames = this.cache.get(key);
    if (!frames) {
      this.setBusy(true);
      try {
        const res = await this.host.api.call('v1/interpolate', body, controller.signal);
        frames = imagesFromJson(await res.json(), 'frames');
        this.cache.set(key, frames);
      } finally {
        if (this.running === controller) this.setBusy(false);
      }
    }
    if (this.running !== controller) return;
    this.shownKey = key;
    this.render(frames, s);
    announce(`Interpolation of ${frames.length} frames ready`);
  }

  private render(frames: readonly ShownImage[], s: InterpolateState): void {
    this.stop();
    const classes = this.host.classes();
    const label = (spec: string) => classCaption({ [spec]: 1 }, classes);
    const title = `${label(s.from)} (seed ${s.fromSeed}) → ${label(s.to)} (seed ${s.toSeed})`;
    const screen = h('img', {
      'data-testid': 'interp-frame-current',
      src: frames[0]?.src ?? '',
      alt: `Frame 1 of ${frames.length}: ${title}`,
    });
    const scrub = h('input', {
      type: 'range',
      min: '0',
      max: String(frames.length - 1),
      step: '1',
      value: '0',
      'aria-label': 'Frame',
      'data-testid': 'interp-scrub',
    });
    const play = h(
      'button',
      { type: 'button', class: 'ghost', 'aria-pressed': 'false', 'data-testid': 'interp-play' },
      'Play',
    );
    const strip = h('div', { class: 'frames', role: 'group', 'aria-label': 'Frames' });
    let at = 0;
    const show = (i: number) => {
      at = (i + frames.length) % frames.length;
      screen.src = frames[at].src;
      screen.alt = `Frame ${at + 1} of ${frames.length}: ${title}`;
      scrub.value = String(at);
      strip.querySelectorAll('button').forEach((b, j) => b.setAttribute('aria-current', String(j === at)));
    };
    frames.forEach((f, i) => {
      const b = h(
        'button',
        { type: 'button', 'aria-label': `Show frame ${i + 1}` },
        h('img', { 'data-testid': 'interp-frame', src: f.src, alt: '' }),
      );
      b.addEventListener('click', () => {
        this.stop(play);
        show(i);
      });
      strip.append(b);
    });
    const start = () => {
      this.stop(play);
      this.timer = setInterval(() => show(at + 1), FRAME_MS);
      play.setAttribute('aria-pressed', 'true');
      play.textContent = 'Pause';
    };
    play.addEventListener('click', () => (this.timer === undefined ? start() : this.stop(play)));
    scrub.addEventListener('input', () => {
      this.stop(play);
      show(Number(scrub.value));
    });
    const downloads = h('div', { class: 'downloads' });
    for (const format of ['gif', 'webp'] as const) {
      const b = h(
        'button',
        { type: 'button', class: 'ghost', 'data-testid': `interp-download-${format}` },
        `Download ${format === 'gif' ? 'GIF' : 'WebP'}`,
      );
      b.addEventListener('click', () => void this.download(s, format, b));
      downloads.append(b);
    }
    this.result.replaceChildren(
      h('div', { class: 'player' }, h('p', { class: 'hint' }, title), screen, h('div', { class: 'row' }, play, scrub)),
      strip,
      downloads,
    );
    show(0);
    // Play at once unless the user asked for less motion.
    if (!matchMedia('(prefers-reduced-motion: reduce)').matches) start();
  }

  private stop(play?: HTMLButtonElement): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (play) {
      play.setAttribute('aria-pressed', 'false');
      play.textContent = 'Play';
    }
  }

  private async download(s: InterpolateState, format: 'gif' | 'webp', button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const res = await this.host.api.call(
        'v1/interpolate',
        interpolateBody(s, format, this.host.model(), this.host.defaultModel()),
      );
      saveBlob(await res.blob(), `biggan-interpolation-${s.from}-${s.fromSeed}-${s.to}-${s.toSeed}.${format}`);
    } catch (err) {
      this.host.error(err);
    } finally {
      button.disabled = false;
    }
  }

  private setBusy(busy: boolean): void {
    this.button.disabled = busy;
    this.button.setAttribute('aria-busy', String(busy));
    this.result.setAttribute('aria-busy', String(busy));
    this.button.querySelector('.label')!.textContent = busy ? 'Interpolating…' : 'Interpolate';
  }

  private async copyCurl(): Promise<void> {
    const s = this.read();
    const problem = this.check(s);
    if (problem) return this.host.problem(problem.message, problem.field, problem.focus);
    const body = interpolateBody(s, 'gif', this.host.model(), this.host.defaultModel());
    await copyText(
      curlCommand(this.host.api.url('v1/interpolate'), body, 'interpolation.gif', this.host.api.key() !== null),
    );
    announce('Copied the curl command');
  }
}
