import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { Identity } from '../constructs/identity';

export interface IdentityStackProps extends StackProps {
  readonly config: StageConfig;
  /** The web app's own URL (CloudFront), always allowed as a callback. */
  readonly webUrl: string;
}

/** Stateful, primary region only: the Cognito user pool and its clients. */
export class IdentityStack extends Stack {
  public readonly identity: Identity;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const webUrl = props.webUrl.endsWith('/') ? props.webUrl : `${props.webUrl}/`;
    // The local web dev server may sign in against a dev stage, never against prod.
    const localUrls = config.stage === 'prod' ? [] : ['http://localhost:5173/'];
    const callbackUrls = [webUrl, ...localUrls, ...config.identity.callbackUrls];

    this.identity = new Identity(this, 'Identity', {
      domainPrefix: config.identity.domainPrefix ?? `chatstack-${config.stage}-${this.account}`,
      callbackUrls,
      logoutUrls: [webUrl, ...localUrls, ...config.identity.logoutUrls],
      selfSignUp: config.identity.selfSignUp,
      advancedSecurity: config.identity.advancedSecurity,
      resourceServerId: config.identity.resourceServerId,
      accessTokenValidity: Duration.minutes(config.identity.accessTokenMinutes),
      refreshTokenValidity: Duration.days(config.identity.refreshTokenDays),
      mfa: config.identity.mfa,
      groups: config.identity.groups,
      federation: config.identity.federation,
    });

    if (!config.identity.advancedSecurity) {
      Validations.of(this.identity.userPool).acknowledge({
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection needs the Cognito Plus plan; it is enabled by identity.advancedSecurity (on in prod).',
      });
      Validations.of(this.identity.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus plan is billed per user; dev stages use Essentials unless identity.advancedSecurity is set.',
      });
    }
    if (config.identity.mfa !== 'required') {
      Validations.of(this.identity.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          `identity.mfa is "${config.identity.mfa}" so people can sign in without an authenticator; ` +
          '"required" enforces TOTP, and with advancedSecurity the Plus plan asks risky sign-ins for a second factor.',
      });
    }

    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'WebClientId', { value: this.identity.webClient.userPoolClientId });
    new CfnOutput(this, 'MachineClientId', {
      value: this.identity.machineClient.userPoolClientId,
      description:
        'Read its secret with: aws cognito-idp describe-user-pool-client --user-pool-id … --client-id …',
    });
    new CfnOutput(this, 'LoginUrl', { value: this.identity.loginBaseUrl });
    new CfnOutput(this, 'TokenUrl', { value: `${this.identity.loginBaseUrl}/oauth2/token` });
  }
}
