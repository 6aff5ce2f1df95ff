import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { dropTarget } from './Attachments';
import { Icon } from './Icon';

interface ComposerProps {
  readonly value: string;
  readonly streaming: boolean;
  /** Sending is paused (rate limit countdown). */
  readonly blocked: boolean;
  readonly onChange: (value: string) => void;
  readonly onSend: () => void;
  readonly onStop: () => void;
  /** Changes when the composer should take focus (a new or switched conversation). */
  readonly focusKey: string;
  /** Files dropped on the composer (drag and drop attaches them). @default dropping does nothing */
  readonly onFiles?: (files: File[]) => void;
  /** Shown above the text box (the attached files' chips). */
  readonly above?: ComponentChildren;
  /** Shown before the text box (the attach button). */
  readonly before?: ComponentChildren;
}

/** The message box: Enter sends, Shift+Enter adds a line; grows with its text. */
export function Composer(props: ComposerProps) {
  const textarea = useRef<HTMLTextAreaElement>(null);

  useLayoutEffect(() => {
    const element = textarea.current;
    if (!element) return;
    element.style.height = 'auto';
    element.style.height = `${Math.min(element.scrollHeight, 240)}px`;
  }, [props.value]);

  useEffect(() => {
    textarea.current?.focus();
  }, [props.focusKey]);

  const canSend = props.value.trim() !== '' && !props.streaming && !props.blocked;
  const [dragging, setDragging] = useState(false);
  const onFiles = props.onFiles;

  return (
    <form
      class={dragging ? 'composer dragging' : 'composer'}
      {...(onFiles ? dropTarget(onFiles, setDragging) : {})}
      onSubmit={(event) => {
        event.preventDefault();
        if (canSend) props.onSend();
      }}
    >
      <label for="composer-input" class="sr-only">
        Message
      </label>
      {props.above}
      <div class="composer-box">
        {props.before}
        <textarea
          ref={textarea}
          id="composer-input"
          rows={1}
          placeholder="Message chatstack…"
          aria-describedby="composer-hint"
          value={props.value}
          maxLength={16000}
          onInput={(event) => props.onChange(event.currentTarget.value)}
          onKeyDown={(event) => {
            // Enter while an input method is composing (e.g. Japanese) confirms the composition, not the message.
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              if (canSend) props.onSend();
            }
          }}
        />
        {props.streaming ? (
          <button type="button" class="send-button stop" aria-label="Stop generating" onClick={props.onStop}>
            <Icon name="stop" />
          </button>
        ) : (
          <button type="submit" class="send-button" aria-label="Send message" disabled={!canSend}>
            <Icon name="send" />
          </button>
        )}
      </div>
      <p id="composer-hint" class="composer-hint">
        Enter to send · Shift+Enter for a new line
      </p>
    </form>
  );
}
