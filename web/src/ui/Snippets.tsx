import { useState } from 'preact/hooks';
import { apiSnippets } from '../snippets';
import { CopyButton } from './Message';

/** Tabs of copyable examples (curl, openai for Node.js and Python) for this deployment's base URL. */
export function Snippets({ apiBaseUrl }: { readonly apiBaseUrl: string }) {
  const snippets = apiSnippets(apiBaseUrl);
  const [selected, setSelected] = useState(snippets[0]?.id ?? 'curl');
  const shown = snippets.find((snippet) => snippet.id === selected) ?? snippets[0];
  return (
    <div class="snippets">
      <div class="snippet-tabs" role="tablist" aria-label="Examples">
        {snippets.map((snippet) => (
          <button
            key={snippet.id}
            type="button"
            role="tab"
            id={`snippet-tab-${snippet.id}`}
            aria-selected={snippet.id === selected}
            aria-controls="snippet-panel"
            class={snippet.id === selected ? 'snippet-tab selected' : 'snippet-tab'}
            onClick={() => setSelected(snippet.id)}
          >
            {snippet.label}
          </button>
        ))}
      </div>
      {shown && (
        <div class="snippet" id="snippet-panel" role="tabpanel" aria-labelledby={`snippet-tab-${shown.id}`}>
          <div class="snippet-copy">
            <CopyButton text={shown.code} label={`Copy the ${shown.label} example`} />
          </div>
          <pre>
            <code>{shown.code}</code>
          </pre>
        </div>
      )}
    </div>
  );
}
