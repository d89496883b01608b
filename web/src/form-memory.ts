import { loadForm, saveForm } from './history.js';

/** A form control whose value is remembered. */
export type Remembered = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A remembered form: `restore()` refills it from the server, changes are saved there a moment after they happen. */
export interface FormMemory {
  /**
   * Refills the controls (a `<select>` whose option is not there yet keeps the value in `data-wanted`); false when
   * the server could not be asked (no API key yet), so the caller tries again later.
   */
  restore(): Promise<boolean>;
  /** The saved values as last read or written. */
  values(): Record<string, string | boolean>;
}

function valueOf(control: Remembered): string | boolean {
  return control instanceof HTMLInputElement && control.type === 'checkbox' ? control.checked : control.value;
}

function setValue(control: Remembered, value: string | boolean): void {
  if (control instanceof HTMLInputElement && control.type === 'checkbox') control.checked = value === true;
  else if (control instanceof HTMLSelectElement) {
    control.dataset.wanted = String(value);
    if ([...control.options].some((option) => option.value === value)) control.value = String(value);
  } else control.value = String(value);
  control.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * Remembers the values of `controls` server-side under `/v1/studio/forms/{name}`, so a form's settings follow the
 * user across reloads, browsers and server restarts. File inputs are never remembered.
 */
export function rememberForm(name: string, controls: Record<string, Remembered>): FormMemory {
  let saved: Record<string, string | boolean> = {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restoring = false;
  const save = (): void => {
    if (restoring) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      saved = Object.fromEntries(Object.entries(controls).map(([key, control]) => [key, valueOf(control)]));
      // A failed save (no key yet) only costs the memory of this change; the form itself still works.
      void saveForm(name, saved).catch(() => undefined);
    }, 300);
  };
  for (const control of Object.values(controls)) {
    control.addEventListener('input', save);
    control.addEventListener('change', save);
  }
  return {
    restore: async () => {
      let value: Record<string, string | boolean> | null;
      try {
        value = await loadForm<Record<string, string | boolean>>(name);
      } catch {
        return false;
      }
      if (!value) return true;
      saved = value;
      restoring = true;
      try {
        for (const [key, control] of Object.entries(controls)) if (key in value) setValue(control, value[key]!);
      } finally {
        restoring = false;
      }
      return true;
    },
    values: () => saved,
  };
}
