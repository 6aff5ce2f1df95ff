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
  /** A member of the `admin` group, for the admin API. */
  admin: { clientId: 'dev-admin', clientSecret: 'dev-secret-admin' },
} as const;

/** The group the dev issuer puts in `cognito:groups` for admins, as Cognito does for the pool's `admin` group. */
export const DEV_ADMIN_GROUP = 'admin';

/**
 * Who is an admin locally: the `dev-admin` machine client, and a person whose dev login is `admin` or starts
 * with `admin-` (the dev login form accepts any login; that is its "admin" option).
 */
export function isDevAdmin(subject: string): boolean {
  return (
    subject === DEV_MACHINE_CLIENTS.admin.clientId || subject === 'admin' || subject.startsWith('admin-')
  );
}
