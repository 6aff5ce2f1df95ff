import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { acknowledgeWildcardResource } from '../nag';
import type { AppFunction } from './app-function';

/**
 * Grants `actions` on the objects under one key pattern of a bucket and `keyActions` on the bucket's key, with the
 * one IAM5 acknowledgement the per-object wildcard needs (`reason` says how the handlers scope each key).
 */
export function grantPrefixObjects(
  fn: AppFunction,
  store: { readonly bucket: IBucket; readonly key: IKey; readonly objects: string; readonly reason: string },
  actions: readonly string[],
  keyActions: readonly string[],
): void {
  const objects = store.bucket.arnForObjects(store.objects);
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...actions], resources: [objects] }),
  );
  fn.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...keyActions], resources: [store.key.keyArn] }),
  );
  acknowledgeWildcardResource(fn, objects, store.reason);
}
