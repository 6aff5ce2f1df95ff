/**
 * The local identities: the API's audience and scopes, the web client and the two dev machine clients.
 * Kept apart from the issuer so that other processes can use them without loading the OAuth server.
 */
export const API_AUDIENCE = 'urn:chatstack:api';
export const API_SCOPES = ['chat:read', 'chat:write'] as const;
export const WEB_CLIENT_ID = 'chatstack-web';
/** Well-known development credentials: the local issuer only, never the cloud. */
export const DEV_MACHINE_CLIENTS = {
  a: { clientId: 'dev-client-a', clientSecret: 'dev-secret-a' },
  b: { clientId: 'dev-client-b', clientSecret: 'dev-secret-b' },
} as const;
