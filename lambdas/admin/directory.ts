import {
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUserGlobalSignOutCommand,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';

/**
 * Where the people are: Cognito's user pool in the cloud. Locally there is no user pool (the dev issuer accepts
 * any login), so the admin API knows people only by what they left behind (usage) and suspension is the
 * table's suspension item alone, which the authorizer enforces the same way in both places.
 */
export interface DirectoryUser {
  /** The `sub` of the user's tokens: every item is keyed by it. */
  readonly id: string;
  readonly email: string | null;
  readonly enabled: boolean;
  /** Unix seconds. */
  readonly createdAt: number | null;
}

export interface UserDirectory {
  /** Every user, at most `MAX_DIRECTORY_USERS`. */
  list(): Promise<DirectoryUser[]>;
  /** Disables sign-in and revokes every refresh token (Cognito: AdminDisableUser + AdminUserGlobalSignOut). */
  disable(sub: string): Promise<void>;
  enable(sub: string): Promise<void>;
}

/** ListUsers pages of 60 (Cognito's maximum), 20 pages at most. */
export const MAX_DIRECTORY_USERS = 1200;

/** No user pool (the local stack): people are known by their usage; the suspension item does the refusing. */
export const usageOnlyDirectory: UserDirectory = {
  list: async () => [],
  disable: async () => undefined,
  enable: async () => undefined,
};

const attribute = (user: UserType, name: string) =>
  user.Attributes?.find((each) => each.Name === name)?.Value;

function directoryUser(user: UserType): DirectoryUser | undefined {
  const id = attribute(user, 'sub');
  if (!id) return undefined;
  return {
    id,
    email: attribute(user, 'email') ?? null,
    enabled: user.Enabled !== false,
    createdAt: user.UserCreateDate ? Math.floor(user.UserCreateDate.getTime() / 1000) : null,
  };
}

export function cognitoDirectory(client: CognitoIdentityProviderClient, userPoolId: string): UserDirectory {
  // Cognito's admin actions take the user name, which is not always the sub (sign-in by email, federation).
  const usernameOf = async (sub: string): Promise<string | undefined> => {
    const { Users } = await client.send(
      new ListUsersCommand({ UserPoolId: userPoolId, Filter: `sub = "${sub.replace(/"/g, '')}"`, Limit: 1 }),
    );
    return Users?.[0]?.Username;
  };
  return {
    list: async () => {
      const users: DirectoryUser[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListUsersCommand({ UserPoolId: userPoolId, Limit: 60, PaginationToken: token }),
        );
        for (const user of page.Users ?? []) {
          const each = directoryUser(user);
          if (each) users.push(each);
        }
        token = page.PaginationToken;
      } while (token && users.length < MAX_DIRECTORY_USERS);
      return users;
    },
    disable: async (sub) => {
      const username = await usernameOf(sub);
      // A machine client or a user already erased from the pool: the suspension item still refuses it.
      if (!username) return;
      await client.send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: username }));
      await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: userPoolId, Username: username }));
    },
    enable: async (sub) => {
      const username = await usernameOf(sub);
      if (!username) return;
      await client.send(new AdminEnableUserCommand({ UserPoolId: userPoolId, Username: username }));
    },
  };
}
