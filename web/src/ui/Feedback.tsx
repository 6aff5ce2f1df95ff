import { useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import { describeProblem } from '../errors';
import { type MessageFeedback, type Rating, rateAnswer } from '../sharing-api';
import { Icon } from './Icon';
import type { UiMessage } from './Message';

const LABELS: Record<Rating, string> = { up: 'Good answer', down: 'Bad answer' };

/**
 * Thumbs up / down under an answer, with an optional comment once rated. Pressing the chosen thumb again clears
 * the rating. The state shown is what the server stored.
 */
export function Feedback(props: {
  readonly api: ApiClient;
  readonly conversationId: string;
  readonly messageId: string;
  readonly initial?: MessageFeedback | undefined;
}) {
  const [feedback, setFeedback] = useState<MessageFeedback | null>(props.initial ?? null);
  const [commenting, setCommenting] = useState(false);
  const [comment, setComment] = useState(props.initial?.comment ?? '');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const save = async (rating: Rating | null, withComment?: string) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const saved = await rateAnswer(props.api, props.conversationId, props.messageId, rating, withComment);
      setFeedback(saved);
      return true;
    } catch (error) {
      setProblem(describeProblem(error).detail);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const thumb = (rating: Rating) => {
    const pressed = feedback?.rating === rating;
    return (
      <button
        type="button"
        class={pressed ? 'icon-button small feedback-thumb pressed' : 'icon-button small feedback-thumb'}
        aria-label={LABELS[rating]}
        aria-pressed={pressed}
        title={pressed ? `${LABELS[rating]} (press again to clear)` : LABELS[rating]}
        disabled={busy}
        onClick={async () => {
          const cleared = pressed;
          if ((await save(cleared ? null : rating)) && !cleared) setCommenting(true);
          if (cleared) setCommenting(false);
        }}
      >
        <Icon name={rating === 'up' ? 'thumbUp' : 'thumbDown'} size={16} />
      </button>
    );
  };

  return (
    <div class="feedback">
      <fieldset class="feedback-thumbs">
        <legend class="sr-only">Rate this answer</legend>
        {thumb('up')}
        {thumb('down')}
        {feedback && !commenting && (
          <button type="button" class="button ghost small" onClick={() => setCommenting(true)}>
            {feedback.comment ? 'Edit comment' : 'Add a comment'}
          </button>
        )}
        <span class="sr-only" role="status">
          {feedback ? `Rated ${feedback.rating === 'up' ? 'good' : 'bad'}.` : ''}
        </span>
      </fieldset>
      {feedback && commenting && (
        <form
          class="feedback-comment"
          onSubmit={async (event) => {
            event.preventDefault();
            if (await save(feedback.rating, comment.trim())) setCommenting(false);
          }}
        >
          <label class="sr-only" for={`feedback-${props.messageId}`}>
            What was good or bad about this answer? (optional)
          </label>
          <textarea
            id={`feedback-${props.messageId}`}
            rows={2}
            maxLength={2000}
            placeholder="What was good or bad about this answer? (optional)"
            value={comment}
            onInput={(event) => setComment(event.currentTarget.value)}
          />
          <div class="feedback-comment-actions">
            <button type="button" class="button" onClick={() => setCommenting(false)}>
              Close
            </button>
            <button type="submit" class="button primary" disabled={busy}>
              Send
            </button>
          </div>
        </form>
      )}
      {feedback?.comment && !commenting && <p class="feedback-saved">“{feedback.comment}”</p>}
      {problem && (
        <p class="feedback-problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** The rating controls of a message of the chat: finished answers with a stored id only. */
export function feedbackFor(api: ApiClient, conversationId: string | undefined, message: UiMessage) {
  if (message.role !== 'assistant' || message.status === 'streaming') return undefined;
  if (!conversationId || !message.messageId) return undefined;
  return (
    <Feedback
      key={message.messageId}
      api={api}
      conversationId={conversationId}
      messageId={message.messageId}
      initial={message.feedback}
    />
  );
}

/** The streamed answer `key` learned its stored id: it can be rated from now on. */
export function withMessageId(messages: readonly UiMessage[], key: string, messageId: string): UiMessage[] {
  return messages.map((message) => (message.key === key ? { ...message, messageId } : message));
}
