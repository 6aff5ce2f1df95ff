import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A line chart of daily series (uPlot): one x value per UTC day, one line per series. */
export function UsageChart(props: {
  readonly label: string;
  readonly days: readonly string[];
  readonly series: readonly {
    readonly label: string;
    readonly values: readonly number[];
    readonly color: string;
  }[];
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = Math.max(320, element.clientWidth);
    const chart = new uPlot(
      {
        width,
        height: 220,
        series: [{}, ...props.series.map((each) => ({ label: each.label, stroke: each.color, width: 2 }))],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
      },
      [
        props.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000),
        ...props.series.map((each) => [...each.values]),
      ],
      element,
    );
    return () => chart.destroy();
  }, [props.days, props.series]);
  return <div ref={host} class="usage-chart" role="img" aria-label={props.label} />;
}
