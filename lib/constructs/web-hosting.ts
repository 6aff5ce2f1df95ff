import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  type IDistribution,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicy, acknowledgeWildcardAction, acknowledgeWildcardResource } from '../nag';

/** Shown instead of the app when `web/dist` was not built before synth. */
export const WEB_PLACEHOLDER_DIR = fileURLToPath(new URL('../assets/web-placeholder/', import.meta.url));

/** The file the web app fetches at start-up to learn its API URL and sign-in settings. */
export const WEB_CONFIG_FILE = 'config.json';

/**
 * The web bucket's name: predictable so the stack that writes `config.json` later can address it without a
 * cross-stack reference inside an IAM wildcard (a deliberate exception to generated names).
 */
export function webBucketName(stage: string, account: string, region: string): string {
  return `chatstack-${stage}-web-${account}-${region}`;
}

export interface WebHostingProps {
  /** Globally unique bucket name (see webBucketName). */
  readonly bucketName: string;
  /** The built web app (vite output). A placeholder page is deployed, with a synth warning, when it is missing. */
  readonly distPath: string;
  /** Origins of the API(s) the page may call, for the Content-Security-Policy `connect-src`. */
  readonly connectSources: readonly string[];
}

/**
 * The web app on a private S3 bucket behind CloudFront (origin access control), with security headers on every
 * response and single-page-app fallbacks. `config.json` is written separately by `WebConfig`.
 */
export class WebHosting extends Construct {
  public readonly bucket: IBucket;
  public readonly distribution: Distribution;
  /** `https://<distribution domain>` (no trailing slash). */
  public readonly url: string;
  /** True when the real app was found; false when the placeholder was deployed. */
  public readonly builtAppFound: boolean;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);
    const bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Built assets are reproducible from the repository.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.bucket = bucket;

    const securityHeadersBehavior = {
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(365),
        includeSubdomains: true,
        preload: true,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
      referrerPolicy: {
        referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
        override: true,
      },
      xssProtection: { protection: true, modeBlock: true, override: true },
      contentSecurityPolicy: {
        contentSecurityPolicy: [
          "default-src 'self'",
          `connect-src 'self' ${props.connectSources.join(' ')}`.trim(),
          "img-src 'self' data:",
          "style-src 'self' 'unsafe-inline'",
          "script-src 'self'",
          "frame-ancestors 'none'",
          "base-uri 'self'",
          "form-action 'self' https://*.amazoncognito.com",
        ].join('; '),
        override: true,
      },
    };
    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'chatstack web: strict security headers',
      securityHeadersBehavior,
    });
    // Shared conversations (`/s/<id>`, public) are not for search engines; the page also says so in a meta tag.
    const sharedPageHeaders = new ResponseHeadersPolicy(this, 'SharedPageHeaders', {
      comment: 'chatstack web: security headers and noindex for shared conversations',
      securityHeadersBehavior,
      customHeadersBehavior: {
        customHeaders: [{ header: 'X-Robots-Tag', value: 'noindex, nofollow', override: true }],
      },
    });
    const appBehavior = {
      origin: S3BucketOrigin.withOriginAccessControl(bucket),
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      compress: true,
    };

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'chatstack web app',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: { ...appBehavior, responseHeadersPolicy: securityHeaders },
      additionalBehaviors: { '/s/*': { ...appBehavior, responseHeadersPolicy: sharedPageHeaders } },
      // Client-side routes: unknown paths serve the app shell.
      errorResponses: [
        {
          httpStatus: 403,
          responseHttpStatus: 200,
          responsePagePath: '/index.html',
          ttl: Duration.seconds(0),
        },
        {
          httpStatus: 404,
          responseHttpStatus: 200,
          responsePagePath: '/index.html',
          ttl: Duration.seconds(0),
        },
      ],
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    this.builtAppFound = existsSync(`${props.distPath}/index.html`);
    if (!this.builtAppFound) {
      Annotations.of(this).addWarningV2(
        'chatstack:web-not-built',
        `No built web app at ${props.distPath}: deploying a placeholder page. Run \`npm run build -w web\` first.`,
      );
    }
    const site = new BucketDeployment(this, 'Site', {
      sources: [Source.asset(this.builtAppFound ? props.distPath : WEB_PLACEHOLDER_DIR)],
      destinationBucket: bucket,
      // config.json is written by WebConfig after the APIs exist; pruning must not delete it.
      exclude: [WEB_CONFIG_FILE],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });
    acknowledgeDeploymentHandler(site, bucket);

    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds the public, reproducible web build; CloudFront is the only reader.',
    });
    const distributionReasons: Record<string, string> = {
      'AwsSolutions-CFR1': 'The chat app is offered worldwide; no geo restriction applies.',
      'AwsSolutions-CFR2':
        'The distribution serves static files only; the API has its own regional WAF web ACL. A CloudFront web ACL must live in us-east-1, which may not be a configured region.',
      'AwsSolutions-CFR3':
        'Static, public assets; requests carrying user data go to the API, which logs every call.',
      'AwsSolutions-CFR4':
        'The default cloudfront.net certificate fixes the viewer TLS policy; serve the app from a custom domain to raise it.',
    };
    for (const [id, reason] of Object.entries(distributionReasons)) {
      Validations.of(this.distribution).acknowledge({ id, reason });
    }
  }
}

export interface WebConfigProps {
  readonly bucket: IBucket;
  readonly distribution: IDistribution;
  /** What the web app reads at start-up. Values may be deploy-time tokens. */
  readonly settings: Readonly<Record<string, string | readonly string[]>>;
}

/** Writes `config.json` next to the web app once the APIs and the user pool exist. */
export class WebConfig extends Construct {
  constructor(scope: Construct, id: string, props: WebConfigProps) {
    super(scope, id);
    const deployment = new BucketDeployment(this, 'Config', {
      sources: [Source.jsonData(WEB_CONFIG_FILE, props.settings)],
      destinationBucket: props.bucket,
      prune: false,
      distribution: props.distribution,
      distributionPaths: [`/${WEB_CONFIG_FILE}`],
      // The app reads it once per page load; a stale copy would point at an old API or client.
      cacheControl: [CacheControl.noCache()],
    });
    acknowledgeDeploymentHandler(deployment, props.bucket);
  }
}

/**
 * The S3 deployment custom resource is CDK's own (a Python Lambda shared by the stack's deployments): its role
 * copies from the CDK assets bucket to the destination and invalidates CloudFront. Its findings are accepted here.
 */
function acknowledgeDeploymentHandler(deployment: BucketDeployment, destination: IBucket): void {
  const stack = Stack.of(deployment);
  const role = deployment.handlerRole;
  const reason = 'CDK BucketDeployment handler: copies the built assets into the web bucket.';
  acknowledgeManagedPolicy(role, 'service-role/AWSLambdaBasicExecutionRole', reason);
  for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) {
    acknowledgeWildcardAction(role, action, reason);
  }
  const assets = `arn:${stack.partition}:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${stack.account}-${stack.region}/*`;
  acknowledgeWildcardResource(
    role,
    assets,
    `${reason} It reads the asset zip from the CDK bootstrap bucket.`,
  );
  acknowledgeWildcardResource(
    role,
    destination.arnForObjects('*'),
    `${reason} Every object of the site is its to write.`,
  );
  acknowledgeWildcardResource(
    role,
    '*',
    'cloudfront:CreateInvalidation/GetInvalidation support no resource-level permissions.',
  );
  for (const child of stack.node.children) {
    if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The runtime of CDK’s own deployment handler is chosen by aws-cdk-lib.',
      });
    }
  }
}
