/**
 * A class picker: a text input with an autocomplete list following the WAI-ARIA combobox pattern
 * (aria-expanded, aria-activedescendant, role=listbox/option). ArrowDown/ArrowUp move through the
 * options, Enter chooses, Escape closes (or, when closed, restores the chosen class).
 */
import { h } from './dom.js';
import { searchClasses, resolveClass, mainName, type ClassEntry } from './classes.js';

/** The value a picker holds: a class spec for the API (an index as a string, or text the server resolves). */
export type ClassSpec = string;

export class ClassCombobox {
  private spec: ClassSpec = '';
  private options: ClassEntry[] = [];
  private active = -1;

  constructor(
    private readonly input: HTMLInputElement,
    private readonly list: HTMLUListElement,
    private readonly classes: () => readonly ClassEntry[],
    private readonly onChange: (spec: ClassSpec) => void,
  ) {
    input.addEventListener('input', () => this.refresh());
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => this.commitTyped());
    // mousedown would blur the input before the click lands: keep the focus in the input.
    list.addEventListener('mousedown', (e) => e.preventDefault());
    list.addEventListener('click', (e) => {
      const li = e.target instanceof Element ? e.target.closest('li') : null;
      const i = li ? Number(li.dataset.i) : -1;
      if (i >= 0) this.choose(this.options[i]);
    });
  }

  /** The chosen class spec ('' when none). */
  value(): ClassSpec {
    return this.spec;
  }

  /** Sets the chosen class without firing onChange (state restored from the URL). */
  set(spec: ClassSpec): void {
    this.spec = spec;
    this.input.value = this.label(spec);
    this.close();
  }

  /** The text shown for a spec: the main name of a known class, else the spec itself. */
  label(spec: ClassSpec): string {
    if (!spec) return '';
    const entry = resolveClass(this.classes(), spec);
    return entry ? mainName(entry) : spec;
  }

  private refresh(): void {
    const matches = searchClasses(this.classes(), this.input.value);
    this.options = matches.map((m) => m.entry);
    this.active = -1;
    this.list.replaceChildren(
      ...matches.map((m, i) => {
        const name = mainName(m.entry);
        const text = m.matched !== name && m.matched !== m.entry.wnid ? `${name} (${m.matched})` : name;
        return h(
          'li',
          {
            role: 'option',
            id: `${this.list.id}-${i}`,
            'data-testid': 'class-option',
            'data-i': String(i),
            'aria-selected': 'false',
          },
          h('span', { class: 'name' }, text),
          h('span', { class: 'meta' }, `${m.entry.index}${m.entry.wnid ? ` · ${m.entry.wnid}` : ''}`),
        );
      }),
    );
    const open = matches.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    this.input.removeAttribute('aria-activedescendant');
  }

  private setActive(i: number): void {
    const items = this.list.querySelectorAll('li');
    items.forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    this.active = i;
    const li = items[i];
    if (li) {
      this.input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    }
  }

  private isOpen(): boolean {
    return !this.list.hidden;
  }

  private close(): void {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    this.active = -1;
  }

  private choose(entry: ClassEntry | undefined): void {
    if (!entry) return;
    this.spec = String(entry.index);
    this.input.value = mainName(entry);
    this.close();
    this.onChange(this.spec);
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.options.length;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        e.preventDefault();
        if (!this.isOpen()) this.refresh();
        if (this.options.length > 0) {
          const step = e.key === 'ArrowDown' ? 1 : -1;
          const m = this.options.length;
          this.setActive(this.active < 0 ? (step > 0 ? 0 : m - 1) : (this.active + step + m) % m);
        }
        break;
      case 'Enter':
        // Enter chooses from an open list (never submits the form then); on a closed list it submits.
        if (this.isOpen() && n > 0) {
          e.preventDefault();
          this.choose(this.options[Math.max(0, this.active)]);
        }
        break;
      case 'Escape':
        if (this.isOpen()) {
          e.preventDefault();
          this.close();
        } else if (this.input.value !== this.label(this.spec)) {
          e.preventDefault();
          this.input.value = this.label(this.spec);
        }
        break;
      default:
        break;
    }
  }

  /** On leaving the field: an exact name is chosen, an empty field clears, anything else reverts. */
  private commitTyped(): void {
    this.close();
    const text = this.input.value.trim();
    if (text === this.label(this.spec)) return;
    if (!text) {
      this.spec = '';
      this.onChange('');
      return;
    }
    const entry = resolveClass(this.classes(), text);
    if (entry) this.choose(entry);
    else this.input.value = this.label(this.spec);
  }
}
