/**
 * The admin function in the cloud: released through its alias like every function API Gateway invokes, allowed
 * to administer users of this deployment's user pool only, and of the table only what its reports and actions use.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

const REGION = 'eu-west-1';
let built: SynthesizedChatstack;
let api: Template;

beforeAll(() => {
  built = synthChatstack({ stage: 'dev', regions: [REGION] });
  const stacks = built.stacks.regions.get(REGION);
  if (!stacks) throw new Error('no stacks');
  api = built.template(stacks.api);
}, 300_000);

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

function adminStatements(): Statement[] {
  const policies = api.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) => id.startsWith('AdminFunctionServiceRole'));
  if (!entry) throw new Error('no policy for the admin function');
  return entry[1].Properties.PolicyDocument.Statement as Statement[];
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

describe('the admin function', () => {
  it('serves every admin route, and only admin routes are admin-only', () => {
    const admin = ROUTES.filter((route) => route.fn === 'admin');
    expect(admin.length).toBeGreaterThan(0);
    expect(admin.every((route) => route.adminOnly && route.path.startsWith('/v1/admin/'))).toBe(true);
    expect(ROUTES.filter((route) => route.adminOnly)).toEqual(admin);
  });

  it('may administer users of the pool only: list, disable, enable, sign out — nothing else of Cognito', () => {
    const cognito = adminStatements().filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('cognito-idp:')),
    );
    expect(cognito).toHaveLength(1);
    expect(actionsOf(cognito[0] as Statement).sort()).toEqual([
      'cognito-idp:AdminDisableUser',
      'cognito-idp:AdminEnableUser',
      'cognito-idp:AdminUserGlobalSignOut',
      'cognito-idp:ListUsers',
    ]);
    const resource = JSON.stringify(cognito[0]?.Resource);
    // The pool's ARN, exported by the identity stack: this pool, not any.
    expect(resource.toLowerCase()).toMatch(/identity.*userpool/);
    expect(resource).not.toBe('"*"');
  });

  it('reads and scans the table, puts and deletes items, and updates only its callers’ route limit counters', () => {
    const table = adminStatements().filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
    );
    // The shared API middleware's per-user route limit: an update that may touch only the counter's attributes.
    const [counters, ...others] = table.filter((statement) =>
      actionsOf(statement).includes('dynamodb:UpdateItem'),
    );
    expect(others).toEqual([]);
    expect(JSON.stringify(counters?.Condition)).toContain('dynamodb:Attributes');
    const actions = new Set(table.filter((statement) => statement !== counters).flatMap(actionsOf));
    expect(actions).toContain('dynamodb:Scan');
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions).toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:UpdateItem');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    const services = new Set(adminStatements().flatMap((s) => actionsOf(s).map((a) => a.split(':')[0])));
    expect([...services].sort()).toEqual(['cognito-idp', 'dynamodb', 'kms']);
  });

  it('is told the user pool, and is invoked through its released alias', () => {
    api.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Administers users, usage, costs and the audit log',
      Environment: {
        Variables: Match.objectLike({ USER_POOL_ID: Match.anyValue(), TABLE_NAME: Match.anyValue() }),
      },
    });
    api.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: Match.stringLikeRegexp('^AdminFunctionAliaslive') },
      Principal: 'apigateway.amazonaws.com',
    });
  });
});
