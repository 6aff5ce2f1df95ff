import type { ConversationSummary } from '../api';
import '../find.css';

/** Pins a conversation to the top of the list, or unpins it. */
export function PinButton({
  conversation,
  onPin,
}: {
  conversation: ConversationSummary;
  onPin: (conversation: ConversationSummary, pinned: boolean) => void;
}) {
  const pinned = conversation.pinned === true;
  return (
    <button
      type="button"
      class={pinned ? 'icon-button small pin pinned' : 'icon-button small pin'}
      aria-label={`${pinned ? 'Unpin' : 'Pin'} “${conversation.title}”`}
      aria-pressed={pinned}
      title={pinned ? 'Unpin' : 'Pin to the top'}
      onClick={() => onPin(conversation, !pinned)}
    >
      <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path
          d="M9 4h6l-1 6 4 4H6l4-4zM12 14v7"
          fill={pinned ? 'currentColor' : 'none'}
          stroke="currentColor"
          stroke-width="2"
          stroke-linejoin="round"
          stroke-linecap="round"
        />
      </svg>
    </button>
  );
}
