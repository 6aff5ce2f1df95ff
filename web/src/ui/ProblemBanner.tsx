import { useEffect, useRef, useState } from 'preact/hooks';
import type { Problem } from '../errors';
import { Icon } from './Icon';

interface ProblemBannerProps {
  readonly problem: Problem;
  /** When the wait from `retry-after` ends (epoch ms). */
  readonly retryAt: number | undefined;
  readonly onRetry: (() => void) | undefined;
  readonly onDismiss: () => void;
}

function secondsUntil(when: number | undefined): number {
  return when === undefined ? 0 : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

/** An error said plainly, with what the person can do about it (wait, retry, rephrase). */
export function ProblemBanner({ problem, retryAt, onRetry, onDismiss }: ProblemBannerProps) {
  const [remaining, setRemaining] = useState(() => secondsUntil(retryAt));
  // A waking model retries by itself when the wait ends; the latest callback, not the one of the first render.
  const autoRetry = useRef<(() => void) | undefined>(undefined);
  autoRetry.current = problem.autoRetry ? onRetry : undefined;

  useEffect(() => {
    setRemaining(secondsUntil(retryAt));
    if (retryAt === undefined) return;
    const timer = window.setInterval(() => {
      const left = secondsUntil(retryAt);
      setRemaining(left);
      if (left === 0) {
        window.clearInterval(timer);
        autoRetry.current?.();
      }
    }, 250);
    return () => window.clearInterval(timer);
  }, [retryAt]);

  return (
    <div class={`problem ${problem.kind}`} data-kind={problem.kind}>
      <Icon name="alert" size={20} />
      <div class="problem-text" role="alert">
        <p class="problem-title">{problem.title}</p>
        <p class="problem-detail">{problem.detail}</p>
      </div>
      {/* The countdown updates every second: it is not a live region, or it would be read out each time. */}
      {remaining > 0 && (
        <p class="countdown" aria-live="off">
          {problem.autoRetry ? 'Retrying in ' : 'Try again in '}
          <strong class="countdown-seconds">{remaining}</strong> s
        </p>
      )}
      <div class="problem-actions">
        {onRetry && remaining === 0 && (
          <button type="button" class="button small" onClick={onRetry}>
            <Icon name="refresh" size={16} /> Try again
          </button>
        )}
        <button type="button" class="icon-button small" aria-label="Dismiss" onClick={onDismiss}>
          <Icon name="close" size={16} />
        </button>
      </div>
    </div>
  );
}
