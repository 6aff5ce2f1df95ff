import { useLayoutEffect, useRef, useState } from 'preact/hooks';

interface EditQuestionProps {
  readonly initial: string;
  /** Sends the edited question (as a new version beside the old one). */
  readonly onSend: (text: string) => void;
  readonly onCancel: () => void;
}

/**
 * A question edited in place: Enter (or Send) sends it as a new version of the question, Shift+Enter adds a line,
 * Escape (or Cancel) leaves it as it was.
 */
export function EditQuestion({ initial, onSend, onCancel }: EditQuestionProps) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  const canSend = text.trim() !== '' && text !== initial;

  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, []);

  return (
    <form
      class="message user edit-question"
      aria-label="Edit question"
      onSubmit={(event) => {
        event.preventDefault();
        if (canSend) onSend(text);
      }}
    >
      <label for="edit-question-input" class="sr-only">
        Edited question
      </label>
      <textarea
        ref={box}
        id="edit-question-input"
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault();
            onCancel();
          } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            if (canSend) onSend(text);
          }
        }}
      />
      <div class="edit-question-actions">
        <button type="button" class="button small ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button small primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
