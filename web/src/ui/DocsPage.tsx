import { useEffect, useRef, useState } from 'preact/hooks';
import type { Auth } from '../auth';
import { PAGE_PATHS } from '../route';
import { PageHead } from './PageHead';
import { Snippets } from './Snippets';

interface DocsPageProps {
  readonly auth: Auth;
  readonly apiBaseUrl: string;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

/**
 * The interactive API reference: docs/openapi.json (generated from the zod schemas) rendered by Swagger UI.
 * "Try it out" calls this deployment's API with the signed-in session's access token, added to every request
 * Swagger UI sends, so nothing needs pasting. Swagger UI and the document load only when this page opens.
 */
export function DocsPage(props: DocsPageProps) {
  const container = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const { auth, apiBaseUrl } = props;

  useEffect(() => {
    document.title = 'API reference · chatstack';
    let cancelled = false;
    (async () => {
      const [{ default: SwaggerUIBundle }, spec] = await Promise.all([
        import('swagger-ui-dist/swagger-ui-es-bundle.js'),
        import('../../../docs/openapi.json'),
        import('swagger-ui-dist/swagger-ui.css'),
      ]);
      if (cancelled || !container.current) return;
      SwaggerUIBundle({
        domNode: container.current,
        spec: { ...spec.default, servers: [{ url: apiBaseUrl, description: 'This deployment' }] },
        deepLinking: false,
        // Each operation shows its own schemas; the separate list of every schema repeats them.
        defaultModelsExpandDepth: -1,
        tryItOutEnabled: false,
        requestSnippetsEnabled: true,
        persistAuthorization: false,
        // Every request Swagger UI sends carries the signed-in session's token (renewed when due).
        requestInterceptor: async (request: { headers: Record<string, string> }) => {
          request.headers.Authorization = `Bearer ${await auth.accessToken()}`;
          return request;
        },
      });
    })().catch((error: unknown) => {
      if (!cancelled) setProblem(error instanceof Error ? error.message : String(error));
    });
    return () => {
      cancelled = true;
    };
  }, [auth, apiBaseUrl]);

  return (
    <main class="chat page" id="main" aria-labelledby="page-title" inert={props.sidebarOpen}>
      <PageHead
        title="API reference"
        titleId="page-title"
        sidebarOpen={props.sidebarOpen}
        onOpenSidebar={props.onOpenSidebar}
      />
      <div class="page-scroll">
        <div class="page-inner wide">
          <section class="card" aria-labelledby="quick-start-title">
            <h2 id="quick-start-title">Quick start</h2>
            <p>
              Any OpenAI client works with the base URL <code>{apiBaseUrl}/v1</code> and an{' '}
              <a href={PAGE_PATHS.keys}>API key</a> (or an OAuth access token). “Try it out” below uses your
              signed-in session.
            </p>
            <Snippets apiBaseUrl={apiBaseUrl} />
          </section>
          {problem && (
            <p class="form-problem" role="alert">
              The API reference could not load: {problem}
            </p>
          )}
          <div ref={container} class="api-reference" data-testid="api-reference" />
        </div>
      </div>
    </main>
  );
}
