/**
 * The generate view: class (+ optional second class and mix), truncation, seed (reroll, lock),
 * count and format; runs POST /v1/generate and shows the images as a grid, each with its seed,
 * class and truncation, a download link, and a click that makes its seed the current one.
 */
import { byId, h, announce, randomSeed } from './dom.js';
import { ClassCombobox } from './combobox.js';
import type { ClassEntry } from './classes.js';
import { Api, curlCommand, copyText } from './api.js';
import { generateBody, round2, type GenerateState } from './state.js';
import { imageFromResponse, imagesFromJson, classCaption, fileName, type ShownImage } from './images.js';
import { ResultCache } from './result-cache.js';

/** What the view needs from the page. */
export interface GenerateViewHost {
  readonly api: Api;
  classes(): readonly ClassEntry[];
  defaultModel(): string;
  /** A control changed (the page updates the URL). */
  changed(): void;
  /** The user asked for a generation (form submit). */
  submit(): void;
  /** Shows a problem found before any request (inline, like an API error). */
  problem(message: string, field: string, focus: HTMLElement): void;
}

export class GenerateView {
  private readonly form = byId('generate-form', HTMLFormElement);
  private readonly mixRange = byId('mix', HTMLInputElement);
  private readonly mixOut = byId('mix-out', HTMLOutputElement);
  private readonly truncation = byId('truncation', HTMLInputElement);
  private readonly truncationOut = byId('truncation-out', HTMLOutputElement);
  private readonly seed = byId('seed', HTMLInputElement);
  private readonly lock = byId('lock', HTMLButtonElement);
  private readonly count = byId('count', HTMLInputElement);
  private readonly format = byId('format', HTMLSelectElement);
  private readonly button = byId('generate', HTMLButtonElement);
  private readonly results = byId('results', HTMLDivElement);
  private readonly cls: ClassCombobox;
  private readonly mix: ClassCombobox;
  private readonly cache = new ResultCache<ShownImage[]>(24);
  private model = '';
  private shownKey = '';
  private running: AbortController | undefined;

  constructor(private readonly host: GenerateViewHost) {
    this.cls = new ClassCombobox(
      byId('class-input', HTMLInputElement),
      byId('class-list', HTMLUListElement),
      () => host.classes(),
      () => host.changed(),
    );
    this.mix = new ClassCombobox(
      byId('mix-class-input', HTMLInputElement),
      byId('mix-list', HTMLUListElement),
      () => host.classes(),
      () => {
        this.syncMix();
        host.changed();
      },
    );
    byId('mix-clear', HTMLButtonElement).addEventListener('click', () => {
      this.mix.set('');
      this.syncMix();
      host.changed();
    });
    for (const el of [this.mixRange, this.truncation]) el.addEventListener('input', () => this.syncOutputs());
    for (const el of [this.mixRange, this.truncation, this.seed, this.count, this.format])
      el.addEventListener('change', () => host.changed());
    byId('reroll', HTMLButtonElement).addEventListener('click', () => {
      this.seed.value = randomSeed();
      announce(`New seed ${this.seed.value}`);
      host.changed();
    });
    this.lock.addEventListener('click', () => {
      this.setLock(this.lock.getAttribute('aria-pressed') !== 'true');
      host.changed();
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      host.submit();
    });
    byId('copy-curl', HTMLButtonElement).addEventListener('click', () => void this.copyCurl());
  }

  /** The controls as state. */
  read(): GenerateState {
    return {
      model: this.model,
      cls: this.cls.value(),
      mix: this.mix.value(),
      w: round2(Number(this.mixRange.value)),
      truncation: round2(Number(this.truncation.value)),
      seed: this.seed.value.trim(),
      lock: this.lock.getAttribute('aria-pressed') === 'true',
      count: Math.min(Number(this.count.max) || 16, Math.max(1, Math.round(Number(this.count.value) || 1))),
      format: this.format.value,
    };
  }

  /** Sets the controls from state. */
  write(g: GenerateState): void {
    this.model = g.model;
    this.cls.set(g.cls);
    this.mix.set(g.mix);
    this.mixRange.value = String(g.w);
    this.truncation.value = String(g.truncation);
    this.seed.value = g.seed;
    this.setLock(g.lock);
    this.count.value = String(g.count);
    if ([...this.format.options].some((o) => o.value === g.format)) this.format.value = g.format;
    this.syncMix();
  }

  /** Sets the model used (from the page's model picker). */
  setModel(model: string): void {
    this.model = model;
  }

  /** Applies the model's limits: most samples per request, image formats. */
  setLimits(maxCount: number, formats: readonly string[]): void {
    this.count.max = String(maxCount);
    for (const o of [...this.format.options]) o.hidden = formats.length > 0 && !formats.includes(o.value);
  }

  /** Rolls a new seed into the seed field (Generate while unlocked). */
  reroll(): void {
    this.seed.value = randomSeed();
  }

  /** Client-side checks before a request; returns a message and the control at fault, or null. */
  check(g: GenerateState): { message: string; field: string; focus: HTMLElement } | null {
    if (!g.cls)
      return {
        message: 'Choose a class first: type a name, a WordNet id or an index.',
        field: 'class',
        focus: byId('class-input', HTMLInputElement),
      };
    if (!/^\d{1,20}$/.test(g.seed) || BigInt(g.seed) >= 2n ** 64n)
      return { message: 'The seed must be a whole number from 0 to 2^64 - 1.', field: 'seed', focus: this.seed };
    return null;
  }

  /** Clears the results (a state with nothing to show). */
  clear(): void {
    this.running?.abort();
    this.shownKey = '';
    this.results.replaceChildren(
      h('p', { class: 'empty' }, 'Pick a class and press Generate. Click an image to keep its seed.'),
    );
  }

  /** Runs the generation of a state and shows it (at once from the cache when it was run before). */
  async run(g: GenerateState): Promise<void> {
    const body = generateBody(g, this.host.defaultModel());
    const key = JSON.stringify(body);
    if (key === this.shownKey) return;
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    let images = this.cache.get(key);
    if (!images) {
      this.setBusy(true);
      try {
        const res = await this.host.api.call('v1/generate', body, controller.signal);
        images = (res.headers.get('content-type') ?? '').includes('application/json')
          ? imagesFromJson(await res.json(), 'images')
          : [await imageFromResponse(res)];
        this.cache.set(key, images, (old) =>
          old.forEach((i) => i.src.startsWith('blob:') && URL.revokeObjectURL(i.src)),
        );
      } finally {
        if (this.running === controller) this.setBusy(false);
      }
    }
    if (this.running !== controller) return;
    this.shownKey = key;
    this.render(images);
    announce(`${images.length} image${images.length > 1 ? 's' : ''} generated`);
  }

  private render(images: readonly ShownImage[]): void {
    const current = this.seed.value.trim();
    const grid = h('div', { class: images.length === 1 ? 'grid single' : 'grid' });
    for (const img of images) {
      const caption = classCaption(img.cls, this.host.classes());
      const t = Number.isFinite(img.truncation) ? img.truncation.toFixed(2) : '?';
      const pick = h(
        'button',
        { type: 'button', class: 'pick', title: 'Use this seed', 'aria-label': `Use seed ${img.seed}` },
        h('img', {
          'data-testid': 'result-image',
          src: img.src,
          alt: `${caption}, seed ${img.seed}, truncation ${t}`,
          'data-seed': img.seed,
        }),
      );
      const figure = h(
        'figure',
        { class: img.seed === current ? 'current' : '' },
        pick,
        h(
          'figcaption',
          {},
          h('span', { class: 'what' }, caption),
          h('span', { class: 'meta' }, `seed ${img.seed} · t ${t}`),
          h('a', { href: img.src, download: fileName(caption, img.seed, img.truncation, img.mimeType) }, 'Download'),
        ),
      );
      pick.addEventListener('click', () => {
        this.seed.value = img.seed;
        this.setLock(true);
        grid.querySelectorAll('figure').forEach((f) => f.classList.toggle('current', f === figure));
        announce(`Seed ${img.seed} is now current`);
        this.host.changed();
      });
      grid.append(figure);
    }
    this.results.replaceChildren(grid);
  }

  private setBusy(busy: boolean): void {
    this.button.disabled = busy;
    this.button.setAttribute('aria-busy', String(busy));
    this.results.setAttribute('aria-busy', String(busy));
    this.button.querySelector('.label')!.textContent = busy ? 'Generating…' : 'Generate';
  }

  private setLock(locked: boolean): void {
    this.lock.setAttribute('aria-pressed', String(locked));
    this.lock.textContent = locked ? 'Locked' : 'Unlocked';
  }

  private syncMix(): void {
    this.mixRange.disabled = !this.mix.value();
    this.syncOutputs();
  }

  private syncOutputs(): void {
    const w = Math.round(Number(this.mixRange.value) * 100);
    this.mixOut.value = this.mix.value() ? `${w}% first · ${100 - w}% second` : 'no second class';
    this.truncationOut.value = Number(this.truncation.value).toFixed(2);
  }

  private async copyCurl(): Promise<void> {
    const g = this.read();
    const problem = this.check(g);
    if (problem) return this.host.problem(problem.message, problem.field, problem.focus);
    const body = generateBody(g, this.host.defaultModel());
    const ext = body.count ? 'json' : g.format === 'jpeg' ? 'jpg' : g.format;
    await copyText(curlCommand(this.host.api.url('v1/generate'), body, `out.${ext}`, this.host.api.key() !== null));
    announce('Copied the curl command');
    const btn = byId('copy-curl', HTMLButtonElement);
    btn.textContent = 'Copied';
    setTimeout(() => (btn.textContent = 'Copy as curl'), 1500);
  }
}
