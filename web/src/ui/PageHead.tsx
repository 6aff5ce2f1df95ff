import type { ComponentChildren, Ref } from 'preact';
import { Icon } from './Icon';

/** The header of a page (chat, API keys, API reference): its title, and the drawer button on phones. */
export function PageHead(props: {
  readonly title: ComponentChildren;
  /** The id the page's `<main>` is labelled by. */
  readonly titleId: string;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
  /** Where focus returns when the drawer closes. */
  readonly menuButtonRef?: Ref<HTMLButtonElement>;
  /** Controls at the end of the header (the model picker, sharing a conversation). */
  readonly actions?: ComponentChildren;
}) {
  return (
    <header class="chat-head">
      <button
        ref={props.menuButtonRef}
        type="button"
        class="icon-button only-mobile"
        aria-label="Open conversations"
        aria-controls="sidebar"
        aria-expanded={props.sidebarOpen}
        onClick={props.onOpenSidebar}
      >
        <Icon name="menu" />
      </button>
      <h1 id={props.titleId} class="chat-title">
        {props.title}
      </h1>
      {props.actions ? <div class="chat-head-actions">{props.actions}</div> : null}
    </header>
  );
}
