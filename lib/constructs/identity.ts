import { Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  FeaturePlan,
  type IUserPoolIdentityProvider,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  ProviderAttribute,
  ResourceServerScope,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  type UserPoolGroup,
  UserPoolIdentityProviderGoogle,
  UserPoolIdentityProviderOidc,
  UserPoolIdentityProviderSaml,
  UserPoolIdentityProviderSamlMetadata,
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { ADMIN_GROUP, API_SCOPES, type Scope } from '../../lambdas/contracts/routes';
import type { AppFunction } from './app-function';

/** An OpenID Connect provider (Entra ID, Okta, Auth0…); its client secret stays in Secrets Manager. */
export interface OidcFederation {
  readonly type: 'oidc';
  /** The name on the login page's button (and Cognito's provider name). */
  readonly name: string;
  readonly issuerUrl: string;
  readonly clientId: string;
  /** Secrets Manager secret (plain text) holding the client secret. */
  readonly clientSecretName: string;
}

/** A SAML 2.0 provider, configured from its metadata document. */
export interface SamlFederation {
  readonly type: 'saml';
  readonly name: string;
  readonly metadataUrl: string;
}

/** Sign in with Google; its client secret stays in Secrets Manager. */
export interface GoogleFederation {
  readonly type: 'google';
  readonly clientId: string;
  readonly clientSecretName: string;
}

export type Federation = OidcFederation | SamlFederation | GoogleFederation;

/** The group the admin API requires (`cognito:groups` in the access token). */
export { ADMIN_GROUP };

export interface IdentityProps {
  /** Managed login domain prefix, unique in the region. */
  readonly domainPrefix: string;
  /** Where the web client may return after sign-in / sign-out. */
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  /** Whether people may create their own accounts. */
  readonly selfSignUp: boolean;
  /** Cognito Plus with threat protection enforced (adaptive authentication, compromised credentials). */
  readonly advancedSecurity: boolean;
  /** Resource server identifier; API scopes become `<identifier>/chat:read`. */
  readonly resourceServerId: string;
  /** @default 15 minutes */
  readonly accessTokenValidity?: Duration;
  /** @default 30 days */
  readonly refreshTokenValidity?: Duration;
  /**
   * Second factor by TOTP authenticator app: `required` for everyone, `optional` (each person chooses) or `off`.
   * @default 'optional'
   */
  readonly mfa?: 'off' | 'optional' | 'required';
  /** Groups besides `admin` (roles the handlers read from `cognito:groups`). @default none */
  readonly groups?: readonly string[];
  /** Other identity providers offered on the web client's managed login page. @default none */
  readonly federation?: readonly Federation[];
}

const MFA_MODES = { off: Mfa.OFF, optional: Mfa.OPTIONAL, required: Mfa.REQUIRED } as const;

/**
 * The user directory: a Cognito user pool (email sign-in, strong passwords, optional MFA), its managed login
 * domain, the resource server with the API's scopes, a public web client (authorization code + PKCE) and a
 * confidential machine-to-machine client (client credentials). Access tokens are short-lived JWTs that every
 * region verifies against the pool's JWKS.
 */
export class Identity extends Construct {
  public readonly userPool: UserPool;
  public readonly domain: UserPoolDomain;
  public readonly resourceServer: UserPoolResourceServer;
  public readonly webClient: UserPoolClient;
  public readonly machineClient: UserPoolClient;
  /** The resource server identifier the API's Cognito scopes are prefixed with. */
  public readonly resourceServerId: string;
  /** Groups by name: `admin` and the configured ones. */
  public readonly groups: ReadonlyMap<string, UserPoolGroup>;
  /** Federated identity providers, in configuration order. */
  public readonly identityProviders: readonly IUserPoolIdentityProvider[];

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    if (props.callbackUrls.length === 0) {
      throw new Error('Identity needs at least one callback URL for the web client');
    }
    this.resourceServerId = props.resourceServerId;

    this.userPool = new UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      autoVerify: { email: true },
      selfSignUpEnabled: props.selfSignUp,
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: MFA_MODES[props.mfa ?? 'optional'],
      mfaSecondFactor: props.mfa === 'off' ? undefined : { otp: true, sms: false },
      // Password reset by a code sent to the verified email, on the managed login pages.
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: props.advancedSecurity ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: props.advancedSecurity
        ? StandardThreatProtectionMode.FULL_FUNCTION
        : undefined,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    const scopes = API_SCOPES.map(
      (scopeName) => new ResourceServerScope({ scopeName, scopeDescription: `chatstack API ${scopeName}` }),
    );
    this.resourceServer = this.userPool.addResourceServer('Api', {
      identifier: props.resourceServerId,
      userPoolResourceServerName: 'chatstack API',
      scopes,
    });
    const apiScopes = scopes.map((scope) => OAuthScope.resourceServer(this.resourceServer, scope));

    const groups = [ADMIN_GROUP, ...(props.groups ?? [])];
    if (new Set(groups).size !== groups.length) {
      throw new Error(
        `Identity: groups must be unique and "admin" is always there, got ${groups.join(', ')}`,
      );
    }
    this.groups = new Map(
      groups.map((groupName) => [
        groupName,
        this.userPool.addGroup(`Group${groupName.replace(/[^A-Za-z0-9]/g, '')}`, {
          groupName,
          description:
            groupName === ADMIN_GROUP
              ? 'Administrators: the admin API and console'
              : `chatstack role ${groupName}`,
        }),
      ]),
    );
    this.identityProviders = (props.federation ?? []).map((provider, index) =>
      this.identityProvider(provider, index),
    );

    const accessTokenValidity = props.accessTokenValidity ?? Duration.minutes(15);
    const refreshTokenValidity = props.refreshTokenValidity ?? Duration.days(30);

    this.webClient = this.userPool.addClient('WebClient', {
      generateSecret: false,
      authFlows: {
        user: false,
        userSrp: false,
        userPassword: false,
        adminUserPassword: false,
        custom: false,
      },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, ...apiScopes],
        callbackUrls: [...props.callbackUrls],
        logoutUrls: [...(props.logoutUrls.length > 0 ? props.logoutUrls : props.callbackUrls)],
      },
      supportedIdentityProviders: [
        UserPoolClientIdentityProvider.COGNITO,
        ...this.identityProviders.map((provider) =>
          UserPoolClientIdentityProvider.custom(provider.providerName),
        ),
      ],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity,
      idTokenValidity: accessTokenValidity,
      refreshTokenValidity,
    });

    this.machineClient = this.userPool.addClient('MachineClient', {
      generateSecret: true,
      oAuth: { flows: { clientCredentials: true }, scopes: apiScopes },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity,
    });

    // Managed login (the newer UI) shows pages only for clients that have a branding style.
    new CfnManagedLoginBranding(this, 'WebClientBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.webClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });
  }

  /**
   * One federated provider. Client secrets are dynamic references to Secrets Manager, resolved by CloudFormation
   * at deploy time: the template and the context hold the secret's name, never its value.
   */
  private identityProvider(provider: Federation, index: number): IUserPoolIdentityProvider {
    const userPool = this.userPool;
    const email = { email: ProviderAttribute.other('email') };
    switch (provider.type) {
      case 'oidc':
        return new UserPoolIdentityProviderOidc(this, `Oidc${index}`, {
          userPool,
          name: provider.name,
          issuerUrl: provider.issuerUrl,
          clientId: provider.clientId,
          // A `{{resolve:secretsmanager:…}}` reference (the property takes a string), not the secret itself.
          clientSecret: SecretValue.secretsManager(provider.clientSecretName).unsafeUnwrap(),
          scopes: ['openid', 'email', 'profile'],
          attributeMapping: email,
        });
      case 'saml':
        return new UserPoolIdentityProviderSaml(this, `Saml${index}`, {
          userPool,
          name: provider.name,
          metadata: UserPoolIdentityProviderSamlMetadata.url(provider.metadataUrl),
          attributeMapping: {
            email: ProviderAttribute.other(
              'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
            ),
          },
        });
      case 'google':
        return new UserPoolIdentityProviderGoogle(this, `Google${index}`, {
          userPool,
          clientId: provider.clientId,
          clientSecretValue: SecretValue.secretsManager(provider.clientSecretName),
          scopes: ['openid', 'email', 'profile'],
          attributeMapping: { email: ProviderAttribute.GOOGLE_EMAIL },
        });
    }
  }

  /** The managed login base URL (`https://<prefix>.auth.<region>.amazoncognito.com`). */
  public get loginBaseUrl(): string {
    return this.domain.baseUrl();
  }

  /** The OAuth issuer every region verifies tokens against. */
  public get issuerUrl(): string {
    return `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
  }

  /**
   * What the admin API does with the pool, on this pool only: list users, disable and enable them, and sign
   * them out everywhere; and the `USER_POOL_ID` variable it finds the pool by.
   */
  public grantUserAdministration(fn: AppFunction): void {
    this.userPool.grant(
      fn,
      'cognito-idp:ListUsers',
      'cognito-idp:AdminDisableUser',
      'cognito-idp:AdminEnableUser',
      'cognito-idp:AdminUserGlobalSignOut',
    );
    fn.setEnvironment(EnvName.userPoolId, this.userPool.userPoolId);
  }

  /** The Cognito scope string API Gateway checks for one of the API's scopes. */
  public cognitoScope(scope: Scope): string {
    return `${this.resourceServerId}/${scope}`;
  }
}
