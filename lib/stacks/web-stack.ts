import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { WebConfig, WebHosting, webBucketName } from '../constructs/web-hosting';

export interface WebStackProps extends StackProps {
  readonly config: StageConfig;
  /** Absolute path of the built web app. */
  readonly distPath: string;
}

/**
 * Primary region: the web app's bucket, CloudFront distribution and files. It comes first because the user
 * pool's callback URLs and the APIs' CORS origin are its URL; `config.json` follows in `WebConfigStack`.
 */
export class WebStack extends Stack {
  public readonly hosting: WebHosting;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, props);
    const { config } = props;
    const apiOrigins = config.customDomain
      ? [`https://${config.customDomain.domainName}`]
      : config.regions.map((region) => `https://*.execute-api.${region}.amazonaws.com`);
    this.hosting = new WebHosting(this, 'Web', {
      bucketName: webBucketName(config.stage, this.account, this.region),
      distPath: props.distPath,
      connectSources: [
        ...apiOrigins,
        'https://*.amazoncognito.com',
        `https://cognito-idp.${config.primaryRegion}.amazonaws.com`,
      ],
    });
    new CfnOutput(this, 'WebUrl', { value: this.hosting.url });
  }
}

export interface WebConfigStackProps extends StackProps {
  readonly stage: string;
  readonly hosting: WebHosting;
  readonly settings: Readonly<Record<string, string | readonly string[]>>;
}

/** Primary region, deployed last: writes the web app's `config.json` (API URL, sign-in settings). */
export class WebConfigStack extends Stack {
  constructor(scope: Construct, id: string, props: WebConfigStackProps) {
    super(scope, id, props);
    new WebConfig(this, 'WebConfig', {
      // By name: the bucket's name is predictable (see webBucketName).
      bucket: Bucket.fromBucketName(this, 'WebBucket', webBucketName(props.stage, this.account, this.region)),
      distribution: props.hosting.distribution,
      settings: props.settings,
    });
  }
}
