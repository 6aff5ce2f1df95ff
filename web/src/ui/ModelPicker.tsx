import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, ModelInfo } from '../api';

/** The last model chosen, kept across reloads (per browser); a model no longer served falls back to the default. */
const STORAGE_KEY = 'chatstack.model';

function storedModel(): string | undefined {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

function storeModel(id: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // Storage may be unavailable (private mode): the choice then lasts for this page only.
  }
}

export interface ModelChoice {
  /** Every served model, the default first (empty until listed, or when listing failed). */
  readonly models: readonly ModelInfo[];
  /** The model to answer with; undefined: the server's default. */
  readonly model: string | undefined;
  readonly choose: (id: string) => void;
}

/** The served models and the one chosen; a failed listing leaves the choice to the server (its default). */
export function useModelChoice(api: ApiClient): ModelChoice {
  const [models, setModels] = useState<readonly ModelInfo[]>([]);
  const [model, setModel] = useState<string | undefined>(storedModel);
  useEffect(() => {
    let current = true;
    api
      .listModels()
      .then((listed) => {
        if (current) setModels(listed);
      })
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [api]);
  const served = models.some((each) => each.id === model) ? model : models[0]?.id;
  return {
    models,
    model: served,
    choose: (id) => {
      setModel(id);
      storeModel(id);
    },
  };
}

/** Which model answers the next message: shown only when the deployment serves more than one. */
export function ModelPicker(props: { readonly choice: ModelChoice; readonly disabled: boolean }) {
  const { models, model, choose } = props.choice;
  if (models.length < 2) return null;
  return (
    <label class="model-picker">
      <span class="sr-only">Model</span>
      <select
        value={model}
        disabled={props.disabled}
        title="The model that answers your next message"
        onChange={(event) => choose(event.currentTarget.value)}
      >
        {models.map((each) => (
          <option key={each.id} value={each.id}>
            {each.id}
          </option>
        ))}
      </select>
    </label>
  );
}
