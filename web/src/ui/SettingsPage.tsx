import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import { ApiRequestError, describeProblem } from '../errors';
import { getSettings, listModelIds, saveSettings, type UserSettings } from '../find-api';
import { PageHead } from './PageHead';
import '../find.css';

/** As the API bounds them (`LIMITS.maxInstructionsChars`). */
const MAX_INSTRUCTIONS = 4000;

interface SettingsPageProps {
  readonly api: ApiClient;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
  readonly notify: (message: string) => void;
}

/** Custom instructions for every new chat and the model new chats start with. */
export function SettingsPage(props: SettingsPageProps) {
  const { api, notify } = props;
  const [loaded, setLoaded] = useState<UserSettings | undefined>(undefined);
  const [models, setModels] = useState<readonly string[]>([]);
  const [instructions, setInstructions] = useState('');
  const [model, setModel] = useState('');
  const [loadProblem, setLoadProblem] = useState<string | undefined>(undefined);
  const [formProblem, setFormProblem] = useState<{ field: string; message: string } | undefined>(undefined);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    document.title = 'Settings · chatstack';
    Promise.all([getSettings(api), listModelIds(api)])
      .then(([settings, ids]) => {
        setLoaded(settings);
        setModels(ids);
        setInstructions(settings.custom_instructions);
        setModel(settings.default_model ?? '');
      })
      .catch((error: unknown) => setLoadProblem(describeProblem(error).detail));
  }, [api]);

  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setFormProblem(undefined);
    try {
      const saved = await saveSettings(api, {
        custom_instructions: instructions,
        default_model: model === '' ? null : model,
      });
      setLoaded(saved);
      setInstructions(saved.custom_instructions);
      notify('Settings saved.');
    } catch (error) {
      // A refused value (validation, content policy): the API's message names the field and the reason.
      const refused = error instanceof ApiRequestError && error.status === 400;
      setFormProblem({
        field: refused ? (error.body.param ?? '') : '',
        message: refused ? error.body.message : describeProblem(error).detail,
      });
    } finally {
      setSaving(false);
    }
  };

  const unchanged =
    loaded !== undefined &&
    instructions === loaded.custom_instructions &&
    (model === '' ? null : model) === loaded.default_model;

  return (
    <main class="chat page" id="main" aria-labelledby="page-title" inert={props.sidebarOpen}>
      <PageHead
        title="Settings"
        titleId="page-title"
        sidebarOpen={props.sidebarOpen}
        onOpenSidebar={props.onOpenSidebar}
      />
      <div class="page-scroll">
        <div class="page-inner">
          {loadProblem && (
            <p class="form-problem" role="alert">
              {loadProblem}
            </p>
          )}
          <section aria-labelledby="instructions-title" class="card">
            <h2 id="instructions-title">Custom instructions</h2>
            <form class="key-form settings-form" onSubmit={(event) => void save(event)}>
              <label class="field settings-field">
                <span>What should the assistant know or do in every new chat?</span>
                <textarea
                  name="custom_instructions"
                  rows={7}
                  maxLength={MAX_INSTRUCTIONS}
                  placeholder="e.g. Answer briefly. I work with TypeScript and AWS."
                  disabled={loaded === undefined}
                  aria-invalid={formProblem?.field === 'custom_instructions'}
                  aria-describedby="instructions-count"
                  value={instructions}
                  onInput={(event) => setInstructions(event.currentTarget.value)}
                />
                <small id="instructions-count" class="settings-count">
                  {instructions.length} / {MAX_INSTRUCTIONS}
                </small>
              </label>
              <label class="field">
                <span>Model for new chats</span>
                <select
                  name="default_model"
                  disabled={loaded === undefined}
                  aria-invalid={formProblem?.field === 'default_model'}
                  value={model}
                  onChange={(event) => setModel(event.currentTarget.value)}
                >
                  <option value="">The service’s default</option>
                  {models.map((id) => (
                    <option key={id} value={id}>
                      {id}
                    </option>
                  ))}
                </select>
              </label>
              {formProblem && (
                <p class="form-problem" role="alert">
                  {formProblem.message}
                </p>
              )}
              <button
                type="submit"
                class="button primary"
                disabled={saving || loaded === undefined || unchanged}
              >
                {saving ? 'Saving…' : 'Save'}
              </button>
            </form>
          </section>
        </div>
      </div>
    </main>
  );
}
