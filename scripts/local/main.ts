/**
 * Entry point of one local-stack component process: `node --import tsx scripts/local/main.ts <component>`.
 * The supervisor (stack.ts) passes the stack description in CHATSTACK_LOCAL.
 */
import { join } from 'node:path';
import { handlerEnvironment } from './handler-env';
import { checkHealth } from './health';
import { API_SCOPES, WEB_CLIENT_ID } from './identity';
import { LOCAL_COMPONENT_NAME, LOCAL_ENDPOINT_NAME, SECOND_ENDPOINT_NAME } from './models';
import { ROOT_DIR, type StackDescription } from './stack';

interface Closable {
  close(): Promise<void>;
}

function description(): StackDescription {
  const raw = process.env.CHATSTACK_LOCAL;
  if (!raw) throw new Error('CHATSTACK_LOCAL is not set: start components through `npm start`.');
  return JSON.parse(raw) as StackDescription;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function start(component: string, stack: StackDescription): Promise<Closable> {
  const { config, urls } = stack;
  switch (component) {
    case 'emulators': {
      const { startEmulators } = await import('./emulators');
      return startEmulators({
        host: config.HOST,
        dynamodbPort: config.DYNAMODB_PORT,
        sqsPort: config.SQS_PORT,
        kinesisPort: config.KINESIS_PORT,
        dynamodbPath: config.DYNAMODB_STORAGE === 'disk' ? join(config.dataDir, 'dynamodb') : undefined,
      });
    }
    case 'issuer': {
      const { startIssuer } = await import('./issuer');
      return startIssuer({
        host: config.HOST,
        port: config.ISSUER_PORT,
        dataDir: config.dataDir,
        webOrigins: [urls.web],
      });
    }
    case 'sagemaker': {
      const { startSageMakerRuntime } = await import('./sagemaker-runtime');
      return startSageMakerRuntime({
        port: portOf(urls.sagemaker),
        endpoints: {
          [LOCAL_ENDPOINT_NAME]: urls.inference,
          ...(urls.inference2 === undefined ? {} : { [SECOND_ENDPOINT_NAME]: urls.inference2 }),
        },
        ...(config.INFERENCE_COLD_START_MS === undefined
          ? {}
          : {
              components: {
                [LOCAL_COMPONENT_NAME]: {
                  endpoint: LOCAL_ENDPOINT_NAME,
                  cold: true,
                  wakeAfterMs: config.INFERENCE_COLD_START_MS,
                },
              },
            }),
      });
    }
    case 's3': {
      const { startLocalS3 } = await import('./s3');
      return startLocalS3(stack);
    }
    case 'api': {
      const { localAsyncEnvironment } = await import('./async-resources');
      Object.assign(
        process.env,
        handlerEnvironment(stack, 'chatstack-api'),
        await localAsyncEnvironment(stack),
        await (await import('./user-data-resources')).localUserDataEnvironment(urls),
        extraHandlerEnv(),
      );
      const { startApiServer } = await import('./api');
      return startApiServer({
        host: config.HOST,
        port: config.PORT,
        issuer: urls.issuer,
        webOrigin: urls.web,
        health: async () => {
          const report = await checkHealth(stack, urls.api);
          return { status: report.status === 'ok' ? 200 : 503, body: report };
        },
      });
    }
    case 'workers': {
      Object.assign(process.env, handlerEnvironment(stack, 'chatstack-workers'), extraHandlerEnv());
      const { startLocalWorkers } = await import('./workers');
      const { startLocalFilesIngest } = await import('./files-ingest');
      const { startLocalUserDataWorker } = await import('./user-data-worker');
      const running = await Promise.all([
        startLocalWorkers(stack),
        startLocalFilesIngest(stack),
        startLocalUserDataWorker(stack),
      ]);
      return { close: async () => void (await Promise.all(running.map((each) => each.close()))) };
    }
    case 'web': {
      const { startWebServer } = await import('./web');
      return startWebServer({
        host: config.HOST,
        port: config.WEB_PORT,
        distDir: join(ROOT_DIR, 'web', 'dist'),
        runtimeConfig: {
          apiBaseUrl: urls.api,
          issuer: urls.issuer,
          clientId: WEB_CLIENT_ID,
          scopes: ['openid', 'offline_access', ...API_SCOPES].join(' '),
          redirectUri: `${urls.web}/callback`,
        },
      });
    }
    default:
      throw new Error(`Unknown component ${component}`);
  }
}

/** Variables the supervisor was asked to set for handlers on top of the defaults (tests tune limits this way). */
function extraHandlerEnv(): Record<string, string> {
  return JSON.parse(process.env.CHATSTACK_HANDLER_ENV ?? '{}') as Record<string, string>;
}

const component = process.argv[2] ?? '';
const running = await start(component, description());
let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  // Never outlive a stop request: close gracefully if that is quick, else exit anyway.
  setTimeout(() => process.exit(0), 5000).unref();
  await running.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The supervisor is gone (even killed): do not outlive it.
process.on('disconnect', shutdown);
