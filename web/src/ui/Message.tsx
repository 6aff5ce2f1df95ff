import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Citation } from '../chat-stream';
import { codeLanguageOf, renderMarkdown } from '../markdown';
import { type AttachedFile, CitationList, MessageFiles } from './Attachments';
import { Icon } from './Icon';

export type UiMessageStatus =
  | 'complete'
  | 'streaming'
  | 'stopped'
  | 'interrupted'
  | 'content_filter'
  | 'length';

export interface UiMessage {
  readonly key: string;
  /** Its stored id, once known (branches name messages by it). */
  readonly id?: string | undefined;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly status: UiMessageStatus;
  /** Files sent with a user message. */
  readonly files?: readonly AttachedFile[];
  /** The passages of attached files an answer was given. */
  readonly citations?: readonly Citation[];
}

const STATUS_NOTES: Partial<Record<UiMessageStatus, string>> = {
  stopped: 'Stopped. The answer so far is kept.',
  interrupted: 'This answer was interrupted before it finished.',
  content_filter: 'The rest of this answer was withheld by the content filter.',
  length: 'The answer reached its length limit.',
};

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="icon-button small"
      aria-label={copied ? 'Copied' : label}
      title={copied ? 'Copied' : label}
      onClick={async () => {
        if (await copyText(text)) {
          setCopied(true);
          window.setTimeout(() => setCopied(false), 1500);
        }
      }}
    >
      <Icon name={copied ? 'check' : 'copy'} size={16} />
    </button>
  );
}

/** Model output rendered as sanitised Markdown; code blocks get a language label and a copy button. */
function AssistantBody({ content, streaming }: { content: string; streaming: boolean }) {
  const container = useRef<HTMLDivElement>(null);
  const html = useMemo(() => renderMarkdown(content), [content]);

  // The sanitised HTML carries no buttons: they are added here, outside the untrusted content.
  useLayoutEffect(() => {
    const root = container.current;
    if (!root) return;
    for (const pre of root.querySelectorAll('pre')) {
      if (pre.parentElement?.classList.contains('code-block')) continue;
      const code = pre.querySelector('code');
      const language = codeLanguageOf(code?.className ?? '');
      const wrapper = document.createElement('div');
      wrapper.className = 'code-block';
      const head = document.createElement('div');
      head.className = 'code-head';
      const name = document.createElement('span');
      name.textContent = language;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'copy-code';
      button.textContent = 'Copy';
      button.setAttribute('aria-label', `Copy ${language} code`);
      // The accessible name starts with the visible text (WCAG 2.5.3), in both states.
      button.addEventListener('click', async () => {
        if (await copyText(code?.textContent ?? '')) {
          button.textContent = 'Copied';
          button.setAttribute('aria-label', `Copied ${language} code`);
          window.setTimeout(() => {
            button.textContent = 'Copy';
            button.setAttribute('aria-label', `Copy ${language} code`);
          }, 1500);
        }
      });
      head.append(name, button);
      pre.replaceWith(wrapper);
      wrapper.append(head, pre);
      // Code can scroll sideways: keyboard users need to reach it.
      pre.tabIndex = 0;
    }
  }, [html]);

  return (
    <div
      ref={container}
      class={streaming ? 'markdown streaming' : 'markdown'}
      // renderMarkdown escapes raw HTML and sanitises the result with DOMPurify.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

interface MessageViewProps {
  readonly message: UiMessage;
  readonly canRegenerate: boolean;
  readonly onRegenerate: () => void;
  /** Edit and version switcher (see `BranchTools`). */
  readonly branchTools?: ComponentChildren;
}

export function MessageView({ message, canRegenerate, onRegenerate, branchTools }: MessageViewProps) {
  const note = STATUS_NOTES[message.status];
  if (message.role === 'user') {
    return (
      <article class="message user" aria-label="You said">
        <div class="bubble">{message.content}</div>
        {message.files?.length ? <MessageFiles files={message.files} /> : null}
        {branchTools}
      </article>
    );
  }
  const streaming = message.status === 'streaming';
  return (
    <article class="message assistant" aria-label="chatstack answered" aria-busy={streaming}>
      <span class="avatar assistant-avatar" aria-hidden="true">
        <Icon name="spark" size={16} />
      </span>
      <div class="assistant-content">
        {message.content === '' && streaming ? (
          <p class="thinking">
            <span class="dot" />
            <span class="dot" />
            <span class="dot" />
            <span class="sr-only">chatstack is writing…</span>
          </p>
        ) : (
          <AssistantBody content={message.content} streaming={streaming} />
        )}
        {message.citations && !streaming ? <CitationList citations={message.citations} /> : null}
        {note && (
          <p class={`message-note ${message.status}`}>
            <Icon name={message.status === 'content_filter' ? 'alert' : 'stop'} size={14} />
            {note}
          </p>
        )}
        {!streaming && (
          <div class="message-actions">
            {message.content !== '' && <CopyButton text={message.content} label="Copy answer" />}
            {canRegenerate && (
              <button
                type="button"
                class="icon-button small"
                aria-label="Regenerate answer"
                title="Regenerate"
                onClick={onRegenerate}
              >
                <Icon name="refresh" size={16} />
              </button>
            )}
            {branchTools}
          </div>
        )}
      </div>
    </article>
  );
}
