import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import { describeProblem } from '../errors';
import { ACCEPTED_FILES, describeFile, type FileInfo, formatBytes, pendingFiles } from '../files';
import { Icon } from './Icon';

interface FilesDialogProps {
  readonly open: boolean;
  readonly api: ApiClient;
  readonly onClose: () => void;
  readonly notify: (message: string) => void;
}

/** Polls for files still processing: every 1.5 s, at most 80 times per opening (2 minutes). */
const POLL_MS = 1500;
const MAX_POLLS = 80;

/** "My files": upload (button or drag and drop), see processing status, download and delete. */
export function FilesDialog(props: FilesDialogProps) {
  const { api, notify, open } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [files, setFiles] = useState<readonly FileInfo[]>([]);
  const [loading, setLoading] = useState(false);
  const [uploading, setUploading] = useState(0);
  const [dragging, setDragging] = useState(false);
  const polls = useRef(0);

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    else if (!open && element.open) element.close();
  }, [open]);

  const refresh = useCallback(async () => {
    try {
      setFiles(await api.listFiles());
    } catch (error) {
      notify(`Could not list your files: ${describeProblem(error).detail}`);
    }
  }, [api, notify]);

  useEffect(() => {
    if (!open) return;
    polls.current = 0;
    setLoading(true);
    void refresh().finally(() => setLoading(false));
  }, [open, refresh]);

  useEffect(() => {
    if (!open || pendingFiles(files).length === 0 || polls.current >= MAX_POLLS) return;
    const timer = window.setTimeout(() => {
      polls.current += 1;
      void refresh();
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [open, files, refresh]);

  const upload = async (chosen: readonly File[]) => {
    setUploading((count) => count + chosen.length);
    for (const file of chosen) {
      try {
        const created = await api.uploadFile(file);
        setFiles((current) => [created, ...current.filter((each) => each.id !== created.id)]);
        polls.current = 0;
      } catch (error) {
        notify(`${file.name} was not uploaded: ${describeProblem(error).detail}`);
      } finally {
        setUploading((count) => count - 1);
      }
    }
  };

  const remove = async (file: FileInfo) => {
    try {
      await api.deleteFile(file.id);
      setFiles((current) => current.filter((each) => each.id !== file.id));
      notify(`${file.filename} was deleted.`);
    } catch (error) {
      notify(`${file.filename} was not deleted: ${describeProblem(error).detail}`);
    }
  };

  const download = async (file: FileInfo) => {
    try {
      const link = document.createElement('a');
      link.href = await api.fileDownloadUrl(file.id);
      link.download = file.filename;
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      notify(`${file.filename} could not be downloaded: ${describeProblem(error).detail}`);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog files-dialog"
      aria-labelledby="files-title"
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
    >
      <h2 id="files-title">My files</h2>
      <section
        class={dragging ? 'file-drop dragging' : 'file-drop'}
        aria-label="Upload files"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          void upload([...(event.dataTransfer?.files ?? [])]);
        }}
      >
        <p>Drop PDF, DOCX, CSV, JSON, text or Markdown files here (up to 50 MB each), or</p>
        <button type="button" class="button primary" onClick={() => picker.current?.click()}>
          Choose files…
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          accept={ACCEPTED_FILES}
          aria-label="Choose files to upload"
          onChange={(event) => {
            const input = event.currentTarget;
            void upload([...(input.files ?? [])]);
            input.value = '';
          }}
        />
      </section>
      <div role="status" aria-live="polite" class="files-status">
        {uploading > 0 ? `Uploading ${uploading} file${uploading === 1 ? '' : 's'}…` : ''}
        {loading && files.length === 0 ? 'Loading your files…' : ''}
      </div>
      {files.length === 0 && !loading ? (
        <p class="files-empty">No files yet.</p>
      ) : (
        <ul class="file-list" aria-label="Your files">
          {files.map((file) => (
            <li key={file.id} class={`file-row ${file.status}`}>
              <div class="file-main">
                <span class="file-name">{file.filename}</span>
                <span class="file-meta">
                  {formatBytes(file.bytes)} · {describeFile(file)}
                </span>
              </div>
              <button
                type="button"
                class="icon-button"
                aria-label={`Download ${file.filename}`}
                onClick={() => void download(file)}
              >
                <Icon name="download" size={16} />
              </button>
              <button
                type="button"
                class="icon-button"
                aria-label={`Delete ${file.filename}`}
                onClick={() => void remove(file)}
              >
                <Icon name="trash" size={16} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
