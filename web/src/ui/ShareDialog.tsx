import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import { describeProblem } from '../errors';
import { revokeShare, type Share, shareConversation } from '../sharing-api';
import { Icon } from './Icon';
import { CopyButton } from './Message';

/**
 * Share a conversation: a read-only link to the conversation as it is now (anyone with the link can read it,
 * signed out too). Sharing again keeps the link and updates what it shows; revoking ends it.
 */
export function ShareButton(props: { readonly api: ApiClient; readonly conversationId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        class="icon-button"
        aria-label="Share conversation"
        title="Share"
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        <Icon name="share" />
      </button>
      {open && <ShareDialog {...props} onClose={() => setOpen(false)} />}
    </>
  );
}

function ShareDialog(props: {
  readonly api: ApiClient;
  readonly conversationId: string;
  readonly onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [share, setShare] = useState<Share | undefined>(undefined);
  const [revoked, setRevoked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useLayoutEffect(() => {
    dialog.current?.showModal();
  }, []);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await work();
    } catch (error) {
      setProblem(describeProblem(error).detail);
    } finally {
      setBusy(false);
    }
  };
  const link = share ? new URL(share.url, location.origin).href : undefined;

  return (
    <dialog
      ref={dialog}
      class="dialog share-dialog"
      aria-labelledby="share-title"
      aria-describedby="share-body"
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
    >
      <h2 id="share-title">Share conversation</h2>
      <p id="share-body">
        Anyone with the link can read this conversation as it is now, without signing in. Messages you send
        later are not shown until you update the link. Your name and account are never shown.
      </p>
      {link && (
        <div class="share-link">
          <input
            type="text"
            readOnly
            value={link}
            aria-label="Share link"
            onFocus={(e) => e.currentTarget.select()}
          />
          <CopyButton text={link} label="Copy link" />
        </div>
      )}
      {revoked && (
        <p class="share-note" role="status">
          The link no longer works.
        </p>
      )}
      {share && !revoked && (
        <p class="share-note" role="status">
          Link ready: {share.message_count} messages shared.
        </p>
      )}
      {problem && (
        <p class="share-problem" role="alert">
          {problem}
        </p>
      )}
      <div class="dialog-actions">
        {share && (
          <button
            type="button"
            class="button danger"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await revokeShare(props.api, props.conversationId);
                setShare(undefined);
                setRevoked(true);
              })
            }
          >
            Revoke link
          </button>
        )}
        <button type="button" class="button" onClick={props.onClose}>
          Close
        </button>
        <button
          type="button"
          class="button primary"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              setShare(await shareConversation(props.api, props.conversationId));
              setRevoked(false);
            })
          }
        >
          {busy ? 'Working…' : share ? 'Update link' : 'Create link'}
        </button>
      </div>
    </dialog>
  );
}
