import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseStageConfig, type RawStageConfig } from '../../../lib/config';
import { type Federation, Identity, type IdentityProps } from '../../../lib/constructs/identity';
import { testApp } from './fixtures/synth';

const env = { account: '123456789012', region: 'eu-west-1' };

function identity(props: Partial<IdentityProps> = {}): Template {
  const stack = new Stack(testApp(), 'Identity', { env });
  new Identity(stack, 'Identity', {
    domainPrefix: 'chatstack-test',
    callbackUrls: ['https://chat.example.com/'],
    logoutUrls: [],
    selfSignUp: true,
    advancedSecurity: false,
    resourceServerId: 'chatstack',
    ...props,
  });
  return Template.fromStack(stack);
}

const FEDERATION: readonly Federation[] = [
  {
    type: 'oidc',
    name: 'Okta',
    issuerUrl: 'https://example.okta.com',
    clientId: 'okta-client',
    clientSecretName: 'chatstack/okta',
  },
  { type: 'saml', name: 'Corp', metadataUrl: 'https://idp.example.com/saml/metadata' },
  { type: 'google', clientId: 'google-client', clientSecretName: 'chatstack/google' },
];

describe('roles', () => {
  it('always has an admin group, and adds the configured roles beside it', () => {
    const template = identity({ groups: ['analyst', 'support'] });
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (group) => group.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['admin', 'analyst', 'support']);
  });

  it('refuses "admin" among the extra groups (it always exists) and duplicate groups', () => {
    expect(() => parseStageConfig({ identity: { groups: ['admin'] } })).toThrow(
      /identity.groups.0:.*always exists/,
    );
    expect(() => identity({ groups: ['analyst', 'analyst'] })).toThrow(/groups must be unique/);
  });
});

describe('multi-factor authentication', () => {
  it.each([
    ['off', { MfaConfiguration: 'OFF', EnabledMfas: Match.absent() }],
    ['optional', { MfaConfiguration: 'OPTIONAL', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] }],
    ['required', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] }],
  ] as const)('with mfa "%s" configures the pool accordingly (TOTP only, never SMS)', (mfa, expected) => {
    identity({ mfa }).hasResourceProperties('AWS::Cognito::UserPool', expected);
  });

  it('resets passwords and verifies addresses by email through managed login', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPool', {
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      AutoVerifiedAttributes: ['email'],
    });
  });

  it('rejects an unknown MFA mode', () => {
    expect(() => parseStageConfig({ identity: { mfa: 'sms' } } as unknown as RawStageConfig)).toThrow(
      /identity.mfa/,
    );
  });
});

describe('federated sign-in', () => {
  const template = identity({ federation: FEDERATION });

  it('creates an OIDC, a SAML and a Google provider from the configuration', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Okta',
      ProviderType: 'OIDC',
      ProviderDetails: Match.objectLike({
        client_id: 'okta-client',
        oidc_issuer: 'https://example.okta.com',
      }),
      AttributeMapping: { email: 'email' },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Corp',
      ProviderType: 'SAML',
      ProviderDetails: Match.objectLike({ MetadataURL: 'https://idp.example.com/saml/metadata' }),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Google',
      ProviderType: 'Google',
      ProviderDetails: Match.objectLike({ client_id: 'google-client' }),
    });
  });

  it('offers every provider, in configuration order, on the web client (by reference: created after them)', () => {
    // A provider's Ref is its provider name.
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: [
        'COGNITO',
        { Ref: Match.stringLikeRegexp('^IdentityOidc0') },
        { Ref: Match.stringLikeRegexp('^IdentitySaml1') },
        { Ref: Match.stringLikeRegexp('^IdentityGoogle2') },
      ],
    });
    // The machine client stays on Cognito's own directory.
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['client_credentials'],
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  it('keeps client secrets out of the template: CloudFormation resolves them from Secrets Manager', () => {
    const secrets = Object.values(template.findResources('AWS::Cognito::UserPoolIdentityProvider'))
      .map((provider) => provider.Properties.ProviderDetails.client_secret)
      .filter((secret) => secret !== undefined);
    expect(secrets.sort()).toEqual([
      '{{resolve:secretsmanager:chatstack/google:SecretString:::}}',
      '{{resolve:secretsmanager:chatstack/okta:SecretString:::}}',
    ]);
  });

  it('accepts secret names only: a secret value in the context is refused', () => {
    const withSecret = {
      identity: {
        federation: [
          {
            type: 'oidc',
            name: 'Okta',
            issuerUrl: 'https://example.okta.com',
            clientId: 'okta-client',
            clientSecret: 'hunter2-plain-text',
          },
        ],
      },
    } as unknown as RawStageConfig;
    expect(() => parseStageConfig(withSecret)).toThrow(/identity.federation.0/);
  });

  it('refuses two providers with one name and names Cognito keeps for itself', () => {
    const saml = (name: string) => ({
      type: 'saml' as const,
      name,
      metadataUrl: 'https://idp.example.com/m',
    });
    expect(() => parseStageConfig({ identity: { federation: [saml('Corp'), saml('Corp')] } })).toThrow(
      /provider names must be unique/,
    );
    expect(() => parseStageConfig({ identity: { federation: [saml('Cognito')] } })).toThrow(
      /name Cognito reserves/,
    );
  });
});
