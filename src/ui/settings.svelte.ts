/**
 * The user's run settings, kept in localStorage so a reload keeps them. What is stored is parsed like
 * any untrusted input (src/core/agent/run-settings.ts); a browser that refuses storage keeps them for the visit.
 */
import { parseRunSettings, type RunSettings } from '../core/agent/run-settings.ts';
import { errorMessage } from '../core/util/error-message.ts';

const KEY = 'sdg.run-settings.v1';

export class SettingsStore {
  value = $state<RunSettings>(read());
  /** Why settings will not outlive this visit, when storage refused them. */
  saveError = $state<string | null>(null);

  update(patch: Partial<RunSettings>): void {
    this.value = parseRunSettings({ ...this.value, ...patch });
    try {
      localStorage.setItem(KEY, JSON.stringify(this.value));
      this.saveError = null;
    } catch (error) {
      this.saveError = `settings are kept for this visit only: ${errorMessage(error)}`;
    }
  }
}

function read(): RunSettings {
  try {
    const stored = localStorage.getItem(KEY);
    return parseRunSettings(stored === null ? null : JSON.parse(stored));
  } catch {
    return parseRunSettings(null);
  }
}
