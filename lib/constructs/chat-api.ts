import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  BasePathMapping,
  DomainName,
  EndpointType,
  IdentitySource,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Model,
  RequestAuthorizer,
  RequestValidator,
  ResponseTransferMode,
  ResponseType,
  RestApi,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import {
  type Alarm,
  type IAlarm,
  MathExpression,
  Metric,
  type MetricOptions,
  Stats,
} from 'aws-cdk-lib/aws-cloudwatch';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ARecord,
  HealthCheck,
  HealthCheckType,
  type IHostedZone,
  RecordTarget,
} from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS } from '../../lambdas/contracts/cors';
import { EnvName } from '../../lambdas/contracts/env';
import { MetricName } from '../../lambdas/contracts/metrics';
import {
  DENIAL_CODE_KEY,
  type FunctionName,
  ROUTES,
  type RouteDefinition,
} from '../../lambdas/contracts/routes';
import type { OpenAiErrorType } from '../../lambdas/shared/errors';
import { acknowledgeManagedPolicy } from '../nag';
import type { AppFunction } from './app-function';
import { alarm, SUSTAINED, type Watched } from './monitoring/alarm';
import { ERROR_KIND, FIVE_MINUTES, insightsSum, ONE_MINUTE, P99 } from './monitoring/metrics';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS } from './monitoring/thresholds';
import { apiGatewayModelSchema, requestBodySchemas, routeKey } from './request-models';

export interface ChatApiCustomDomain {
  /** e.g. api.chat.example.com: the same name in every region, resolved by latency. */
  readonly domainName: string;
  readonly hostedZone: IHostedZone;
}

export interface ChatApiProps {
  /** The function serving each `fn` of ROUTES. */
  readonly functions: Readonly<Record<FunctionName, AppFunction>>;
  /**
   * The Lambda REQUEST authorizer (lambdas/authorizer): verifies Cognito access tokens and personal API keys and
   * returns a policy of the routes the caller may call.
   */
  readonly authorizer: AppFunction;
  /**
   * How long API Gateway reuses the authorizer's answer for one Authorization header: the longest a revoked API
   * key keeps working. At most 60 seconds.
   * @default 60 seconds
   */
  readonly authorizerCacheTtl?: Duration;
  /** Origins the browser may call from (the web app). */
  readonly allowedOrigins: readonly string[];
  readonly stageName: string;
  readonly logRetention: RetentionDays;
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
  /** WAF rate-based rule: requests per IP in any 5-minute window. */
  readonly wafRequestsPer5MinutesPerIp: number;
  /** The chat request model's ceiling for `max_tokens` / `max_completion_tokens`. */
  readonly maxCompletionTokens: number;
  /** How long a streamed chat response may last (the chat function's timeout). */
  readonly streamTimeout: Duration;
  /** @default - the execute-api URL only */
  readonly customDomain?: ChatApiCustomDomain;
  /**
   * Thresholds of the API's alarms (5xx rate; the chat targets: time to first token, response latency, server
   * error rate; moderation and client-error spikes).
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly alarmThresholds?: AlarmThresholds;
}

/**
 * A gateway-made error in the OpenAI error shape. `$context.error.messageString` is already a quoted JSON string,
 * so it is spliced in unquoted; the validation detail is not JSON-safe (it may contain quotes), so it stays out.
 * A fixed `message` replaces API Gateway's own where that would mislead (e.g. "Missing Authentication Token" for
 * an unknown URL).
 */
function errorTemplate(type: OpenAiErrorType, code: string, message?: string): string {
  const text = message === undefined ? '$context.error.messageString' : JSON.stringify(message);
  return `{"error":{"message":${text},"type":"${type}","param":null,"code":"${code}"}}`;
}

/** Gateway-made errors, answered like the local adapter (scripts/local/api.ts) answers them. */
interface GatewayError {
  readonly id: string;
  readonly type: ResponseType;
  /** @default - API Gateway's own status code */
  readonly status?: string;
  readonly errorType: OpenAiErrorType;
  readonly code: string;
  readonly message?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const GATEWAY_ERRORS: readonly GatewayError[] = [
  {
    id: 'Unauthorized',
    type: ResponseType.UNAUTHORIZED,
    status: '401',
    errorType: 'authentication_error',
    code: 'invalid_token',
    headers: { 'WWW-Authenticate': `'Bearer error="invalid_token"'` },
  },
  {
    id: 'AccessDenied',
    type: ResponseType.ACCESS_DENIED,
    status: '403',
    errorType: 'permission_error',
    // `insufficient_scope`, or `account_suspended` for a suspended account (lambdas/authorizer/policy.ts).
    code: `$context.authorizer.${DENIAL_CODE_KEY}`,
    headers: { 'WWW-Authenticate': `'Bearer error="insufficient_scope"'` },
  },
  // With Cognito authorizers, API Gateway answers this for a path or method no route defines.
  {
    id: 'UnknownUrl',
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: '404',
    errorType: 'invalid_request_error',
    code: 'unknown_url',
    message: 'Unknown request URL.',
  },
  {
    id: 'BadBody',
    type: ResponseType.BAD_REQUEST_BODY,
    status: '400',
    errorType: 'invalid_request_error',
    code: 'invalid_request',
  },
  {
    id: 'BadParameters',
    type: ResponseType.BAD_REQUEST_PARAMETERS,
    status: '400',
    errorType: 'invalid_request_error',
    code: 'invalid_request',
  },
  {
    id: 'TooLarge',
    type: ResponseType.REQUEST_TOO_LARGE,
    status: '413',
    errorType: 'invalid_request_error',
    code: 'request_too_large',
    message: 'Request body too large.',
  },
  {
    id: 'Throttled',
    type: ResponseType.THROTTLED,
    status: '429',
    errorType: 'rate_limit_error',
    code: 'rate_limit_exceeded',
    headers: { 'retry-after': "'1'" },
  },
  {
    id: 'QuotaExceeded',
    type: ResponseType.QUOTA_EXCEEDED,
    status: '429',
    errorType: 'rate_limit_error',
    code: 'quota_exceeded',
  },
  {
    id: 'WafFiltered',
    type: ResponseType.WAF_FILTERED,
    status: '403',
    errorType: 'permission_error',
    code: 'request_blocked',
  },
  {
    id: 'IntegrationTimeout',
    type: ResponseType.INTEGRATION_TIMEOUT,
    status: '504',
    errorType: 'server_error',
    code: 'timeout',
    message: 'The request timed out.',
  },
  // Everything else keeps API Gateway's status code.
  {
    id: 'Default4xx',
    type: ResponseType.DEFAULT_4XX,
    errorType: 'invalid_request_error',
    code: 'gateway_error',
  },
  {
    id: 'Default5xx',
    type: ResponseType.DEFAULT_5XX,
    errorType: 'server_error',
    code: 'gateway_error',
  },
];

/**
 * The public REST API of one region, built from ROUTES: Cognito authorizer with OAuth scopes per method,
 * response streaming on the chat method, request models from the zod schemas, stage throttling,
 * JSON access logs, X-Ray, CORS for the web app, a WAF web ACL, and an optional latency-routed custom domain.
 */
export class ChatApi extends Construct implements Watched {
  public readonly api: RestApi;
  public readonly webAcl: CfnWebACL;
  /** 5xx share above `api5xxRatePercent` for 3 minutes: also drives the Route 53 health check of this region. */
  public readonly serverErrorAlarm: Alarm;
  /**
   * The API's alarms: `ServerErrorRate`, the chat targets (see `createAlarms`) and `ServerErrorRate-<function>`
   * for the routes of each function.
   */
  public readonly alarms: Readonly<Record<string, Alarm>>;
  /** The base URL clients use (custom domain when configured), ending in `/v1`. */
  public readonly baseUrl: string;
  /**
   * Per function: 5xx share of the methods it serves above `api5xxRatePercent`, one alarm per five routes
   * (watched during its releases).
   */
  public readonly functionServerErrorAlarms: Readonly<Record<FunctionName, readonly Alarm[]>>;
  private readonly stageName: string;

  constructor(scope: Construct, id: string, props: ChatApiProps) {
    super(scope, id);
    if (props.allowedOrigins.length === 0) throw new Error('ChatApi needs at least one allowed origin');

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new RestApi(this, 'Api', {
      description: 'chatstack OpenAI-compatible API',
      endpointTypes: [EndpointType.REGIONAL],
      // File uploads (`POST /v1/files`) reach the function base64-encoded, byte for byte.
      binaryMediaTypes: ['multipart/form-data'],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: props.stageName,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttleRatePerSecond,
        throttlingBurstLimit: props.throttleBurst,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [...props.allowedOrigins],
        allowMethods: [...CORS_ALLOW_METHODS],
        allowHeaders: [...CORS_ALLOW_HEADERS],
        exposeHeaders: [...CORS_EXPOSE_HEADERS],
        maxAge: Duration.hours(1),
      },
    });

    this.addErrorResponses(props.allowedOrigins);

    const cacheTtl = props.authorizerCacheTtl ?? Duration.seconds(60);
    if (cacheTtl.toSeconds() > 60) {
      throw new Error(
        `ChatApi authorizerCacheTtl is ${cacheTtl.toSeconds()} s: at most 60 s, so a revoked API key stops working within a minute`,
      );
    }
    // API Gateway answers a request without an Authorization header with 401 itself (no invocation, so no
    // auth.failed event), and a cached answer is reused for every method: the authorizer's policy lists them all.
    const authorizer = new RequestAuthorizer(this, 'Authorizer', {
      // Its `live` alias: a new authorizer is released gradually like the functions it guards.
      handler: props.authorizer.invokeTarget,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: cacheTtl,
    });
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const bodySchemas = requestBodySchemas(props.maxCompletionTokens);

    for (const route of ROUTES) {
      const fn = props.functions[route.fn];
      const schema = bodySchemas[routeKey(route)];
      const model =
        schema === undefined
          ? undefined
          : new Model(this, `${route.method}${route.path.replace(/[^A-Za-z0-9]/g, '')}Model`, {
              restApi: this.api,
              contentType: 'application/json',
              schema: apiGatewayModelSchema(schema),
            });
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
      // ROUTES: empty scopes mean a public route.
      // The authorizer's policy decides per route (scopes, and no key management with a key).
      const auth =
        route.scopes.length > 0
          ? { authorizationType: AuthorizationType.CUSTOM, authorizer }
          : { authorizationType: AuthorizationType.NONE };
      const method = this.resourceFor(route.path).addMethod(
        route.method,
        this.integration(route, fn, props.streamTimeout),
        {
          ...auth,
          requestValidator: validator,
          requestModels: model ? { 'application/json': model } : undefined,
          requestParameters:
            pathParameters.length > 0
              ? Object.fromEntries(pathParameters.map((name) => [`method.request.path.${name}`, true]))
              : undefined,
        },
      );
      if (route.scopes.length > 0) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'A Lambda REQUEST authorizer verifies the Cognito access tokens (aws-jwt-verify) and also accepts personal API keys, which a Cognito authorizer cannot.',
        });
      }
      if (route.scopes.length === 0) {
        const reason = `${route.method} ${route.path} is public by design (ROUTES lists no scopes for it).`;
        Validations.of(method).acknowledge(
          { id: 'AwsSolutions-APIG4', reason },
          { id: 'AwsSolutions-COG4', reason },
        );
      }
    }

    for (const fn of new Set(Object.values(props.functions))) {
      fn.setEnvironment(EnvName.webOrigin, props.allowedOrigins.join(','));
    }

    this.webAcl = this.createWebAcl(props.wafRequestsPer5MinutesPerIp);
    new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    const thresholds = props.alarmThresholds ?? DEFAULT_ALARM_THRESHOLDS;
    this.stageName = props.stageName;
    this.functionServerErrorAlarms = this.createFunctionAlarms(thresholds);
    this.alarms = {
      ...this.createAlarms(props.functions.chat, thresholds),
      ...Object.fromEntries(
        Object.entries(this.functionServerErrorAlarms).flatMap(([name, groups]) =>
          groups.map((each, group) => [`ServerErrorRate-${name}${group === 0 ? '' : `-${group + 1}`}`, each]),
        ),
      ),
    };
    this.serverErrorAlarm = this.alarms.ServerErrorRate ?? fail('ServerErrorRate');

    this.baseUrl = props.customDomain
      ? this.addCustomDomain(props.customDomain)
      : `${this.api.url.replace(/\/$/, '')}/v1`;

    this.acknowledgeFindings();
  }

  private resourceFor(path: string): IResource {
    return path
      .split('/')
      .filter(Boolean)
      .reduce<IResource>(
        (parent, part) => parent.getResource(part) ?? parent.addResource(part),
        this.api.root,
      );
  }

  private integration(route: RouteDefinition, fn: AppFunction, streamTimeout: Duration): LambdaIntegration {
    // The invoke target is the `live` alias when the function has provisioned concurrency: invoking the
    // unqualified function would bypass the warm environments.
    if (route.streaming) {
      return new LambdaIntegration(fn.invokeTarget, {
        proxy: true,
        responseTransferMode: ResponseTransferMode.STREAM,
        timeout: streamTimeout,
      });
    }
    return new LambdaIntegration(fn.invokeTarget, { proxy: true });
  }

  /** Gateway-made errors in the OpenAI error shape, with CORS headers so the browser can read them. */
  private addErrorResponses(origins: readonly string[]): void {
    // API Gateway adds its own x-amzn-RequestId header to these responses. A gateway response cannot test the
    // origin against the allowed list, so with several origins it echoes the request's: these answers are the
    // gateway's own fixed error objects (made before any handler ran), nothing a page could learn a user's data from.
    const cors = {
      'Access-Control-Allow-Origin':
        origins.length > 1 ? 'method.request.header.Origin' : `'${origins[0] ?? '*'}'`,
      'Access-Control-Expose-Headers': `'${CORS_EXPOSE_HEADERS.join(',')}'`,
      Vary: "'Origin'",
    };
    for (const error of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(error.id, {
        type: error.type,
        statusCode: error.status,
        responseHeaders: { ...cors, ...error.headers },
        templates: { 'application/json': errorTemplate(error.errorType, error.code, error.message) },
      });
    }
  }

  private createWebAcl(requestsPer5MinutesPerIp: number): CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    return new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('chatstack-api'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: {
              limit: requestsPer5MinutesPerIp,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility('chatstack-rate-limit'),
        },
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // Chat requests carry the conversation so far: bodies above 8 KB are normal here. The API's own
              // request model and the handler cap the size instead (64 KB).
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility('chatstack-common-rules'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' },
          },
          visibilityConfig: visibility('chatstack-known-bad-inputs'),
        },
      ],
    });
  }

  private addCustomDomain(custom: ChatApiCustomDomain): string {
    const stack = Stack.of(this);
    const certificate = new Certificate(this, 'Certificate', {
      domainName: custom.domainName,
      validation: CertificateValidation.fromDns(custom.hostedZone),
    });
    const domain = new DomainName(this, 'Domain', {
      domainName: custom.domainName,
      certificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    new BasePathMapping(this, 'Mapping', {
      domainName: domain,
      restApi: this.api,
      stage: this.api.deploymentStage,
    });
    const healthCheck = new HealthCheck(this, 'HealthCheck', {
      type: HealthCheckType.CLOUDWATCH_METRIC,
      alarmIdentifier: { region: stack.region, name: this.serverErrorAlarm.alarmName },
    });
    new ARecord(this, 'LatencyRecord', {
      zone: custom.hostedZone,
      recordName: custom.domainName,
      target: RecordTarget.fromAlias(new ApiGatewayDomain(domain)),
      region: stack.region,
      setIdentifier: `chatstack-${stack.region}`,
      healthCheck,
    });
    return `https://${custom.domainName}/v1`;
  }

  private acknowledgeFindings(): void {
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeManagedPolicy(
        cloudWatchRole,
        'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
        'API Gateway execution logging needs this account-level role; the managed policy is the documented one.',
      );
    }
    for (const child of this.api.methods) {
      if (child.httpMethod === 'OPTIONS') {
        Validations.of(child).acknowledge(
          { id: 'AwsSolutions-APIG4', reason: 'CORS preflight requests carry no credentials by definition.' },
          { id: 'AwsSolutions-COG4', reason: 'CORS preflight requests carry no credentials by definition.' },
        );
      }
    }
  }

  /**
   * The API's alarms, built from its own metrics and the chat function's product metrics. The chat targets are
   * the API's promise to its callers, so they live here with the 5xx rate.
   */
  private createAlarms(chat: AppFunction, t: AlarmThresholds): Record<string, Alarm> {
    const product = (metricName: MetricName, statistic: string) =>
      chat.metricProduct(metricName, { statistic });
    return {
      ServerErrorRate: alarm(this, 'ServerErrors', {
        metric: this.metricServerErrorRate(),
        threshold: t.api5xxRatePercent / 100,
        evaluationPeriods: 3,
        description: `chatstack API in ${Stack.of(this).region}: more than ${t.api5xxRatePercent} % of requests fail with 5xx.`,
      }),
      TimeToFirstTokenP99: alarm(this, 'TimeToFirstTokenP99Alarm', {
        metric: product(MetricName.timeToFirstToken, P99),
        threshold: t.timeToFirstTokenP99Ms,
        ...SUSTAINED,
        description: `Chat time to first token p99 is above ${t.timeToFirstTokenP99Ms} ms.`,
      }),
      ResponseLatencyP99: alarm(this, 'ResponseLatencyP99Alarm', {
        metric: product(MetricName.responseLatency, P99),
        threshold: t.responseLatencyP99Ms,
        ...SUSTAINED,
        description: `Chat response latency p99 is above ${t.responseLatencyP99Ms} ms.`,
      }),
      ErrorRate: alarm(this, 'ErrorRateAlarm', {
        metric: this.metricChatServerErrorRate(chat),
        threshold: t.errorRatePercent,
        ...SUSTAINED,
        description: `Chat server error rate is above ${t.errorRatePercent} %.`,
      }),
      // An answer the user saw that could not be stored (after its write retries), by chat or a job: any is a bug.
      AnswerPersistFailures: alarm(this, 'AnswerPersistFailuresAlarm', {
        metric: insightsSum(MetricName.answerPersistFailures, FIVE_MINUTES, 'Answers not stored (all)'),
        threshold: 0,
        description: 'An answer could not be stored in its conversation after retries (see the chat logs).',
      }),
      ModerationBlocksSpike: alarm(this, 'ModerationBlocksSpikeAlarm', {
        metric: insightsSum(MetricName.moderationBlocks, FIVE_MINUTES, 'Moderation blocks (all)'),
        threshold: t.moderationBlocksPer5Min,
        description: `More than ${t.moderationBlocksPer5Min} moderation blocks in 5 minutes.`,
      }),
      ClientErrorsSpike: alarm(this, 'ClientErrorsSpikeAlarm', {
        metric: insightsSum(MetricName.clientErrors, FIVE_MINUTES, 'Client errors (all)'),
        threshold: t.clientErrorsPer5Min,
        description: `More than ${t.clientErrorsPer5Min} client-side errors reported in 5 minutes.`,
      }),
    };
  }

  /**
   * 5xx-rate alarms per function, from the detailed (per-method) metrics of the routes it serves: one alarm per
   * group of five routes, since an alarm's metric math may use at most ten metrics (two per route).
   */
  private createFunctionAlarms(t: AlarmThresholds): Record<FunctionName, Alarm[]> {
    const names = [...new Set(ROUTES.map((route) => route.fn))];
    return Object.fromEntries(
      names.map((name) => [
        name,
        routeGroups(name).map((routes, group) =>
          // The first group keeps the id the single alarm of a function always had.
          alarm(
            this,
            `${name.replace(/[^A-Za-z0-9]/g, '')}ServerErrorsAlarm${group === 0 ? '' : group + 1}`,
            {
              metric: this.metricFunctionServerErrorRate(name, group),
              threshold: t.api5xxRatePercent,
              evaluationPeriods: 3,
              description: `More than ${t.api5xxRatePercent} % of the requests served by ${name}${group === 0 ? '' : ` (${routes.map(routeKey).join(', ')})`} fail with 5xx.`,
            },
          ),
        ),
      ]),
    ) as Record<FunctionName, Alarm[]>;
  }

  /**
   * The alarms that judge a release of `fn`: the 5xx rate of its routes and, for chat, the promises streamed
   * answers make (time to first token, server error rate) that a 200 status cannot show.
   */
  public releaseAlarms(fn: FunctionName): IAlarm[] {
    const own = this.functionServerErrorAlarms[fn];
    if (fn !== 'chat') return [...own];
    return [
      ...own,
      this.alarms.TimeToFirstTokenP99 ?? fail('TimeToFirstTokenP99'),
      this.alarms.ErrorRate ?? fail('ErrorRate'),
    ];
  }

  /**
   * 5xx answers as a percentage of the requests to the methods `fn` serves (API Gateway's detailed metrics), for
   * one group of at most five of its routes (`routeGroups`).
   */
  public metricFunctionServerErrorRate(fn: FunctionName, group = 0): MathExpression {
    const routes = routeGroups(fn)[group] ?? [];
    const metric = (metricName: string, route: RouteDefinition) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: {
          ApiName: this.api.restApiName,
          Stage: this.stageName,
          Resource: route.path,
          Method: route.method,
        },
        statistic: Stats.SUM,
        period: ONE_MINUTE,
      });
    const usingMetrics = Object.fromEntries(
      routes.flatMap((route, index) => [
        [`errors${index}`, metric('5XXError', route)],
        [`requests${index}`, metric('Count', route)],
      ]),
    );
    const sum = (prefix: string) => routes.map((_, index) => `${prefix}${index}`).join(' + ');
    return new MathExpression({
      expression: `IF((${sum('requests')}) > 0, 100 * (${sum('errors')}) / (${sum('requests')}), 0)`,
      usingMetrics,
      label: group === 0 ? `${fn} 5xx rate (%)` : `${fn} 5xx rate, routes group ${group + 1} (%)`,
      period: ONE_MINUTE,
    });
  }

  /** Chat answers that failed on our side (`Errors` of kind internal or inference) as a percentage of requests. */
  public metricChatServerErrorRate(chat: AppFunction): MathExpression {
    const errors = (kind: string) =>
      chat.metricProduct(MetricName.errors, { statistic: Stats.SUM, dimensions: { [ERROR_KIND]: kind } });
    return new MathExpression({
      expression: 'IF(requests > 0, 100 * (internal + inference) / requests, 0)',
      usingMetrics: {
        requests: chat.metricProduct(MetricName.requests, { statistic: Stats.SUM }),
        internal: errors('internal'),
        inference: errors('inference'),
      },
      label: 'Chat server error rate (%)',
      period: ONE_MINUTE,
    });
  }

  /** Share of requests answered with 5xx (API Gateway's 5XXError average, 0–1). */
  public metricServerErrorRate(options?: MetricOptions): Metric {
    return this.api.metricServerError({ statistic: 'Average', period: ONE_MINUTE, ...options });
  }

  public metricServerErrors(options?: MetricOptions): Metric {
    return this.api.metricServerError({ statistic: 'Sum', ...options });
  }

  public metricClientErrors(options?: MetricOptions): Metric {
    return this.api.metricClientError({ statistic: 'Sum', ...options });
  }

  /** @default p99 */
  public metricLatency(options?: MetricOptions): Metric {
    return this.api.metricLatency({ statistic: 'p99', ...options });
  }

  /** @default p99 */
  public metricIntegrationLatency(options?: MetricOptions): Metric {
    return this.api.metricIntegrationLatency({ statistic: 'p99', ...options });
  }

  public metricCount(options?: MetricOptions): Metric {
    return this.api.metricCount({ statistic: 'Sum', ...options });
  }
}

function fail(what: string): never {
  throw new Error(`ChatApi: missing alarm ${what}`);
}

/** Routes per 5xx-rate alarm: two metrics each, and CloudWatch allows ten metrics in an alarm's math. */
export const ROUTES_PER_ALARM = 5;

/** The routes of `fn` in groups of `ROUTES_PER_ALARM`, in ROUTES order. */
export function routeGroups(fn: FunctionName): RouteDefinition[][] {
  const routes = ROUTES.filter((route) => route.fn === fn);
  return Array.from({ length: Math.ceil(routes.length / ROUTES_PER_ALARM) }, (_, group) =>
    routes.slice(group * ROUTES_PER_ALARM, (group + 1) * ROUTES_PER_ALARM),
  );
}
