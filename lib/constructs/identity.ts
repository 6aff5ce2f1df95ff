import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { API_SCOPES, type Scope } from '../../lambdas/contracts/routes';

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
}

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
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
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
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
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

  /** The managed login base URL (`https://<prefix>.auth.<region>.amazoncognito.com`). */
  public get loginBaseUrl(): string {
    return this.domain.baseUrl();
  }

  /** The OAuth issuer every region verifies tokens against. */
  public get issuerUrl(): string {
    return `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
  }

  /** The Cognito scope string API Gateway checks for one of the API's scopes. */
  public cognitoScope(scope: Scope): string {
    return `${this.resourceServerId}/${scope}`;
  }
}
