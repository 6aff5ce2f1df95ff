import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiClient, ApiKey, ApiScope, CreatedApiKey, ListedApiKey } from '../api';
import { describeProblem } from '../errors';
import { PAGE_PATHS } from '../route';
import { ConfirmDialog } from './ConfirmDialog';
import { CopyButton } from './Message';
import { PageHead } from './PageHead';
import { Snippets } from './Snippets';

interface ApiKeysPageProps {
  readonly api: ApiClient;
  readonly apiBaseUrl: string;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
  readonly notify: (message: string) => void;
}

const SCOPES: readonly { scope: ApiScope; label: string }[] = [
  { scope: 'chat:read', label: 'Read (models, conversations, usage)' },
  { scope: 'chat:write', label: 'Write (chat completions, jobs)' },
];
const EXPIRY_CHOICES = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: 'never', label: 'Never' },
] as const;

const day = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : '—');
const isExpired = (key: ApiKey) => key.expires_at !== null && Date.parse(key.expires_at) <= Date.now();

/** Personal API keys: make one (its secret is shown once, to copy), see them with when each was last used, revoke. */
export function ApiKeysPage(props: ApiKeysPageProps) {
  const { api, notify } = props;
  const [keys, setKeys] = useState<readonly ListedApiKey[] | undefined>(undefined);
  const [loadProblem, setLoadProblem] = useState<string | undefined>(undefined);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<readonly ApiScope[]>(['chat:read', 'chat:write']);
  const [expiry, setExpiry] = useState<string>('90');
  const [creating, setCreating] = useState(false);
  const [formProblem, setFormProblem] = useState<string | undefined>(undefined);
  const [created, setCreated] = useState<CreatedApiKey | undefined>(undefined);
  const [revoking, setRevoking] = useState<ApiKey | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setLoadProblem(undefined);
    try {
      setKeys(await api.listApiKeys());
    } catch (error) {
      setLoadProblem(describeProblem(error).detail);
    }
  }, [api]);

  useEffect(() => {
    document.title = 'API keys · chatstack';
    void load();
  }, [load]);

  const create = async (event: Event) => {
    event.preventDefault();
    setFormProblem(undefined);
    if (scopes.length === 0) {
      setFormProblem('Choose at least one permission.');
      return;
    }
    setCreating(true);
    try {
      const key = await api.createApiKey({
        name: name.trim(),
        scopes,
        expiresInDays: expiry === 'never' ? null : Number(expiry),
      });
      setCreated(key);
      setName('');
      await load();
    } catch (error) {
      setFormProblem(describeProblem(error).detail);
    } finally {
      setCreating(false);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await api.revokeApiKey(revoking.id);
      if (created?.id === revoking.id) setCreated(undefined);
      notify(`“${revoking.name}” was revoked.`);
      setRevoking(undefined);
      await load();
    } catch (error) {
      notify(`Revoking failed: ${describeProblem(error).detail}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="chat page" id="main" aria-labelledby="page-title" inert={props.sidebarOpen}>
      <PageHead
        title="API keys"
        titleId="page-title"
        sidebarOpen={props.sidebarOpen}
        onOpenSidebar={props.onOpenSidebar}
      />
      <div class="page-scroll">
        <div class="page-inner">
          <p class="page-intro">
            Use an API key as the <code>apiKey</code> of any OpenAI client, with the base URL{' '}
            <code>{props.apiBaseUrl}/v1</code>. A key acts as you: it shares your quotas and your
            conversations, with at most the permissions you give it. See the{' '}
            <a href={PAGE_PATHS.docs}>API reference</a>.
          </p>

          {created && (
            <section class="new-key" aria-labelledby="new-key-title">
              <h2 id="new-key-title">Copy your new key now</h2>
              <p>
                This is the only time “{created.name}” is shown. Store it somewhere safe, such as a secret
                manager.
              </p>
              <div class="secret-row">
                <input
                  class="secret"
                  data-testid="new-api-key"
                  readOnly
                  aria-label="Your new API key"
                  value={created.key}
                  onFocus={(event) => event.currentTarget.select()}
                />
                <CopyButton text={created.key} label="Copy the API key" />
              </div>
              <Snippets apiBaseUrl={props.apiBaseUrl} />
              <button type="button" class="button small" onClick={() => setCreated(undefined)}>
                I have copied it
              </button>
            </section>
          )}

          <section aria-labelledby="create-key-title" class="card">
            <h2 id="create-key-title">Create a key</h2>
            <form class="key-form" onSubmit={(event) => void create(event)}>
              <label class="field">
                <span>Name</span>
                <input
                  name="name"
                  required
                  maxLength={64}
                  placeholder="e.g. laptop scripts"
                  value={name}
                  onInput={(event) => setName(event.currentTarget.value)}
                />
              </label>
              <fieldset class="field">
                <legend>Permissions</legend>
                {SCOPES.map(({ scope, label }) => (
                  <label key={scope} class="check">
                    <input
                      type="checkbox"
                      checked={scopes.includes(scope)}
                      onChange={(event) =>
                        setScopes(
                          event.currentTarget.checked
                            ? [...scopes, scope]
                            : scopes.filter((s) => s !== scope),
                        )
                      }
                    />
                    {label}
                  </label>
                ))}
              </fieldset>
              <label class="field">
                <span>Expires after</span>
                <select value={expiry} onChange={(event) => setExpiry(event.currentTarget.value)}>
                  {EXPIRY_CHOICES.map((choice) => (
                    <option key={choice.value} value={choice.value}>
                      {choice.label}
                    </option>
                  ))}
                </select>
              </label>
              {formProblem && (
                <p class="form-problem" role="alert">
                  {formProblem}
                </p>
              )}
              <button type="submit" class="button primary" disabled={creating || name.trim() === ''}>
                {creating ? 'Creating…' : 'Create key'}
              </button>
            </form>
          </section>

          <section aria-labelledby="keys-title" class="card">
            <h2 id="keys-title">Your keys</h2>
            {loadProblem && (
              <p class="form-problem" role="alert">
                {loadProblem}{' '}
                <button type="button" class="button small" onClick={() => void load()}>
                  Try again
                </button>
              </p>
            )}
            {keys === undefined && !loadProblem && <p role="status">Loading keys…</p>}
            {keys?.length === 0 && <p>You have no API keys yet.</p>}
            {keys && keys.length > 0 && (
              <table class="keys-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Permissions</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Requests today</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {keys.map((key) => (
                    <tr key={key.id}>
                      <th scope="row">{key.name}</th>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{key.scopes.join(', ')}</td>
                      <td>{day(key.created_at)}</td>
                      <td>
                        {isExpired(key) ? <span class="danger-text">Expired</span> : day(key.expires_at)}
                      </td>
                      <td>{key.last_used_at ? new Date(key.last_used_at).toLocaleString() : 'Never'}</td>
                      <td>{key.usage_today.requests}</td>
                      <td>
                        <button
                          type="button"
                          class="button small danger"
                          aria-label={`Revoke ${key.name}`}
                          onClick={() => setRevoking(key)}
                        >
                          Revoke
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
      </div>
      <ConfirmDialog
        open={revoking !== undefined}
        title="Revoke this key?"
        body={`Programs using “${revoking?.name ?? ''}” stop working within a minute. This cannot be undone.`}
        confirmLabel="Revoke"
        danger
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(undefined)}
      />
    </main>
  );
}
