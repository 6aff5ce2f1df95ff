import { useState } from 'preact/hooks';
import { Icon } from './Icon';

interface SignInProps {
  readonly expired: boolean;
  readonly error: string | undefined;
  readonly onSignIn: () => Promise<void>;
}

/** The signed-out screen; after an expired session it says the draft is safe. */
export function SignIn({ expired, error, onSignIn }: SignInProps) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const message = failure ?? error;
  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <span class="welcome-mark" aria-hidden="true">
          <Icon name="spark" size={28} />
        </span>
        <h1>{expired ? 'Your session has ended' : 'Welcome to chatstack'}</h1>
        <p class="signin-lead">
          {expired
            ? 'Sign in again to continue. Whatever you were typing is kept.'
            : 'Chat with your own model, privately, in your own cloud.'}
        </p>
        {message && (
          <p class="signin-error" role="alert">
            {message}
          </p>
        )}
        <button
          type="button"
          class="button primary large"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setFailure(undefined);
            try {
              await onSignIn();
            } catch (caught) {
              setFailure(caught instanceof Error ? caught.message : 'Sign-in could not start.');
              setBusy(false);
            }
          }}
        >
          {busy ? 'Redirecting…' : 'Sign in'}
        </button>
      </div>
    </main>
  );
}
