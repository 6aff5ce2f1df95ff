import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import type { Citation } from '../chat-stream';
import { describeProblem } from '../errors';
import { ACCEPTED_FILES, type FileInfo } from '../files';
import { Icon } from './Icon';

/**
 * Files in chat: the composer's attach button and drop target with the chips of what will go with the next
 * message, the chips on a sent message, and the citations under an answer grounded in files.
 */

/** A file attached in the composer: uploading, processing, ready, or failed with a reason. */
export interface Attachment {
  readonly key: string;
  readonly filename: string;
  readonly id?: string;
  readonly state: 'uploading' | 'processing' | 'ready' | 'error';
  readonly reason?: string;
}

/** A file shown on a sent message. */
export interface AttachedFile {
  readonly id: string;
  readonly filename: string;
}

/** How often, and how many times, a processing file is looked at again (bounded: about two minutes). */
const POLL_MS = 1000;
const MAX_POLLS = 120;

let attachmentSequence = 0;

/** The composer's attachments: upload on add, poll until processed, drop when removed or sent. */
export function useAttachments(api: ApiClient) {
  const [attachments, setAttachments] = useState<readonly Attachment[]>([]);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const update = (key: string, change: Partial<Attachment>) => {
    if (alive.current)
      setAttachments((current) => current.map((each) => (each.key === key ? { ...each, ...change } : each)));
  };

  const settle = async (key: string, uploaded: FileInfo) => {
    let file = uploaded;
    for (let poll = 0; file.status === 'uploaded' && poll < MAX_POLLS && alive.current; poll++) {
      await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
      file = await api.getFile(file.id);
    }
    if (file.status === 'processed') update(key, { state: 'ready' });
    else
      update(key, {
        state: 'error',
        reason: file.status === 'error' ? (file.status_details ?? 'Could not be read.') : 'Still processing.',
      });
  };

  const add = useCallback(
    (files: Iterable<File>) => {
      for (const file of files) {
        const key = `a${++attachmentSequence}`;
        setAttachments((current) => [...current, { key, filename: file.name, state: 'uploading' }]);
        api
          .uploadFile(file)
          .then((uploaded) => {
            update(key, { id: uploaded.id, state: 'processing' });
            return settle(key, uploaded);
          })
          .catch((error: unknown) => update(key, { state: 'error', reason: describeProblem(error).title }));
      }
    },
    [api],
  );

  const remove = (key: string) => setAttachments((current) => current.filter((each) => each.key !== key));
  const ready = attachments.filter(
    (each): each is Attachment & { id: string } => each.state === 'ready' && each.id !== undefined,
  );
  return {
    attachments,
    add,
    remove,
    /** Files still uploading or processing: the message waits for them. */
    busy: attachments.some((each) => each.state === 'uploading' || each.state === 'processing'),
    /** The ready files, taken for a message (the composer's list is emptied). */
    take: (): AttachedFile[] => {
      const taken = ready.map(({ id, filename }) => ({ id, filename }));
      setAttachments([]);
      return taken;
    },
  };
}

/** The paperclip: opens the file picker. */
export function AttachButton({ onFiles, disabled }: { onFiles: (files: File[]) => void; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPTED_FILES}
        class="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        data-testid="attach-input"
        onChange={(event) => {
          const files = [...(event.currentTarget.files ?? [])];
          event.currentTarget.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
      <button
        type="button"
        class="icon-button attach-button"
        aria-label="Attach files"
        title="Attach files (or drop them here)"
        disabled={disabled}
        onClick={() => input.current?.click()}
      >
        <Icon name="paperclip" />
      </button>
    </>
  );
}

/** Drag-and-drop handlers for the composer: files dropped on it are attached. */
export function dropTarget(onFiles: (files: File[]) => void, setDragging: (dragging: boolean) => void) {
  const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') === true;
  return {
    onDragOver: (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    },
    onDragLeave: () => setDragging(false),
    onDrop: (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      onFiles([...(event.dataTransfer?.files ?? [])]);
    },
  };
}

const STATE_LABEL: Record<Attachment['state'], string> = {
  uploading: 'Uploading…',
  processing: 'Processing…',
  ready: 'Ready',
  error: 'Failed',
};

/** The composer's chips: each file with where it stands and a remove button. */
export function AttachmentChips({
  attachments,
  onRemove,
}: {
  attachments: readonly Attachment[];
  onRemove: (key: string) => void;
}) {
  if (attachments.length === 0) return null;
  return (
    <ul class="file-chips" aria-label="Attached files">
      {attachments.map((each) => (
        <li key={each.key} class={`file-chip ${each.state}`} title={each.reason ?? STATE_LABEL[each.state]}>
          <Icon name="file" size={14} />
          <span class="file-chip-name">{each.filename}</span>
          <span class="file-chip-state">
            {each.state === 'error' ? each.reason : STATE_LABEL[each.state]}
          </span>
          <button
            type="button"
            class="icon-button small"
            aria-label={`Remove ${each.filename}`}
            onClick={() => onRemove(each.key)}
          >
            <Icon name="close" size={12} />
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The files sent with a message. */
export function MessageFiles({ files }: { files: readonly AttachedFile[] }) {
  return (
    <ul class="file-chips sent" aria-label="Files sent with this message">
      {files.map((file) => (
        <li key={file.id} class="file-chip ready">
          <Icon name="file" size={14} />
          <span class="file-chip-name">{file.filename}</span>
        </li>
      ))}
    </ul>
  );
}

/** The passages an answer was given, under it: which file, and the quoted text (document text, shown as text). */
export function CitationList({ citations }: { citations: readonly Citation[] }) {
  if (citations.length === 0) {
    return <p class="citations none">No passage of the attached files matched this question.</p>;
  }
  return (
    <details class="citations">
      <summary>Sources: {[...new Set(citations.map((citation) => citation.filename))].join(', ')}</summary>
      <ol>
        {citations.map((citation) => (
          <li key={citation.chunk_id} data-chunk-id={citation.chunk_id}>
            <span class="citation-file">{citation.filename}</span>
            <blockquote>{citation.text}</blockquote>
          </li>
        ))}
      </ol>
    </details>
  );
}
