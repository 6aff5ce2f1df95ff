import { render } from 'preact';
import { ApiClient } from './api';
import { Auth } from './auth';
import { loadConfig } from './config';
import { installErrorReporter } from './reporter';
import { shareIdFromPath } from './sharing-api';
import { App } from './ui/App';
import { SharedPage } from './ui/SharedPage';
import './styles.css';
import './sharing.css';

const RELEASE = import.meta.env.VITE_RELEASE ?? 'dev';

function fatal(root: HTMLElement, message: string) {
  root.replaceChildren();
  render(
    <main class="signin" id="main">
      <div class="signin-card">
        <h1>chatstack could not start</h1>
        <p class="signin-error" role="alert">
          {message}
        </p>
        <button type="button" class="button primary" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    </main>,
    root,
  );
}

async function start(root: HTMLElement): Promise<void> {
  const config = await loadConfig();
  // A share link opens without signing in: no session, no sign-in redirect.
  const shareId = shareIdFromPath(location.pathname);
  if (shareId) {
    root.replaceChildren();
    render(<SharedPage apiBaseUrl={config.apiBaseUrl} shareId={shareId} />, root);
    return;
  }
  const auth = await Auth.discover(config);
  let report: ReturnType<typeof installErrorReporter> = () => undefined;
  const api = new ApiClient(config.apiBaseUrl, auth, ({ method, path, error }) =>
    report({
      kind: 'request',
      message: `${method} ${path} answered ${error.status}: ${error.message}`,
      request: {
        method,
        url: `${config.apiBaseUrl}/v1${path}`,
        status: error.status,
        ...(error.requestId ? { requestId: error.requestId } : {}),
      },
    }),
  );
  report = installErrorReporter((r) => (auth.current ? api.reportError(r) : Promise.resolve()), RELEASE);

  let signInError: string | undefined;
  const url = new URL(location.href);
  if (auth.isCallback(url)) {
    try {
      const returnTo = await auth.completeSignIn(url);
      history.replaceState(null, '', returnTo);
    } catch (error) {
      history.replaceState(null, '', '/');
      signInError = `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  root.replaceChildren();
  render(
    <App auth={auth} api={api} apiBaseUrl={config.apiBaseUrl} {...(signInError ? { signInError } : {})} />,
    root,
  );
}

const root = document.getElementById('app');
if (root) {
  start(root).catch((error: unknown) => {
    fatal(root, error instanceof Error ? error.message : String(error));
  });
}
