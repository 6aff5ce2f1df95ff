import { Color, GraphWidget, type HorizontalAnnotation, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { LATENCY_TARGET_MS } from './thresholds';

const WIDTH = 8;
export const HEIGHT = 6;

/** The 2-second target line drawn on latency graphs. */
export function targetLine(valueMs: number = LATENCY_TARGET_MS): HorizontalAnnotation {
  return { value: valueMs, label: `${valueMs / 1000} s target`, color: Color.RED };
}

/** A third-of-a-row graph. */
export function graph(
  title: string,
  left: IMetric[],
  options: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
): GraphWidget {
  return new GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...options });
}
