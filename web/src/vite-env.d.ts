/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The build's version, shown in error reports. */
  readonly VITE_RELEASE?: string;
}

/** swagger-ui-dist ships no types; this is the part of its API the docs page uses. */
declare module 'swagger-ui-dist/swagger-ui-es-bundle.js' {
  interface SwaggerUIOptions {
    readonly domNode: HTMLElement;
    readonly spec: object;
    readonly deepLinking?: boolean;
    readonly defaultModelsExpandDepth?: number;
    readonly tryItOutEnabled?: boolean;
    readonly requestSnippetsEnabled?: boolean;
    readonly persistAuthorization?: boolean;
    readonly requestInterceptor?: (request: { headers: Record<string, string> }) => unknown;
  }
  const SwaggerUIBundle: (options: SwaggerUIOptions) => unknown;
  export default SwaggerUIBundle;
}
